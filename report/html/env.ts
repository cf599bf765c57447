// What a report says about where it was made: the lab's version and commit, the date, cores and load. A reader
// comparing two reports needs these before any figure.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let cached: string | undefined;

/** "vpci-lab 0.1.0 (5eb167b-12-gabc1234-dirty)": package version and `git describe` of the lab's checkout, if any. */
export function labVersion(): string {
  if (cached !== undefined) return cached;
  let version = '?';
  try { version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '?'; } catch { /* no package.json beside dist */ }
  let commit = '';
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty', '--tags'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch { /* not a git checkout (an npm install): the version says enough */ }
  cached = `vpci-lab ${version}${commit ? ` (${commit})` : ''}`;
  return cached;
}

/** One line of facts: version, date, cores, load (the load the run saw, when the result kept it). */
export function envLine(o: { cores?: number; load?: { start: number[]; end: number[] } } = {}): string {
  const load = o.load ? `load ${o.load.start[0].toFixed(1)} at start, ${o.load.end[0].toFixed(1)} at end` : `load ${os.loadavg()[0].toFixed(1)} when written`;
  const date = new Date().toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  return `${labVersion()} · Xen: the lab's model of late 2021 and HEAD · report written ${date} · ${o.cores ?? os.availableParallelism()} cores · ${load}`;
}
