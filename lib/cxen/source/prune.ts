// Keeping the compile cache bounded: .cache/cc grows by an object per changed source and a link per build (every
// patch, every tree). Each part keeps its most recently used entries (compileCached and the C backend's build mark
// an entry used on every hit); an entry used within the grace period is never removed, since another run may be
// about to link it (runs share the cache and never lock it).

import { readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, readJson } from './cache.js';

export interface PruneLimits { obj: number; link: number; src: number; build: number; graceMs: number }
export const PRUNE_DEFAULTS: PruneLimits = { obj: 600, link: 48, src: 48, build: 96, graceMs: 10 * 60_000 };

interface Entry { paths: string[]; used: number }

function mtime(p: string): number { try { return statSync(p).mtimeMs; } catch { return 0; } }
function list(dir: string): string[] { try { return readdirSync(dir); } catch { return []; } }

/** Remove all but the `keep` most recently used entries, sparing those used within the grace period. */
function keepNewest(entries: Entry[], keep: number, graceMs: number, now: number): number {
  const old = entries.sort((a, b) => b.used - a.used).slice(keep).filter((e) => now - e.used > graceMs);
  for (const e of old) for (const p of e.paths) rmSync(p, { recursive: true, force: true });
  return old.length;
}

/** Objects: a manifest (<key>.json) and the object it names; an object no manifest names is an entry of its own. */
function objectEntries(dir: string): Entry[] {
  const names = list(dir);
  const named = new Set<string>();
  const out: Entry[] = [];
  for (const n of names.filter((f) => f.endsWith('.json'))) {
    const obj = readJson<{ obj?: string }>(join(dir, n))?.obj;
    if (obj) named.add(obj);
    out.push({ paths: [join(dir, n), ...(obj ? [join(dir, obj)] : [])], used: mtime(join(dir, n)) });
  }
  for (const n of names.filter((f) => !f.endsWith('.json') && !named.has(f))) out.push({ paths: [join(dir, n)], used: mtime(join(dir, n)) });
  return out;
}

const dirEntries = (dir: string): Entry[] => list(dir).map((n) => ({ paths: [join(dir, n)], used: mtime(join(dir, n)) }));

/** Prune the compile cache under `root` (default: the lab's cache). Returns how many entries went. */
export function pruneCompileCache(root?: string, limits: Partial<PruneLimits> = {}, now = Date.now()): number {
  const l = { ...PRUNE_DEFAULTS, ...limits };
  const base = cacheDir(undefined, root);
  return keepNewest(objectEntries(join(base, 'cc', 'obj')), l.obj, l.graceMs, now)
    + keepNewest(dirEntries(join(base, 'cc', 'link')), l.link, l.graceMs, now)
    + keepNewest(dirEntries(join(base, 'cc', 'src')), l.src, l.graceMs, now)
    + keepNewest(dirEntries(join(base, 'cxen')), l.build, l.graceMs, now);
}
