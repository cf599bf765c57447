// Where the C backend keeps what it fetches, prepares and compiles: $VPCI_LAB_CACHE, else .cache/ at the root of
// this checkout (git-ignored). Entries are named by content hashes and written under a temporary name, then
// renamed, so concurrent runs (or threads) never see half an entry.

import { existsSync, readFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

/** The checkout's root: the nearest directory above this file whose package.json names vpci-lab. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try { if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'vpci-lab') return d; } catch { /* keep looking */ }
    }
    const up = dirname(d);
    if (up === d) return process.cwd();
    d = up;
  }
}

/** The cache root, or one of its parts (created on demand). */
export function cacheDir(part?: string, root?: string): string {
  const base = root ?? process.env.VPCI_LAB_CACHE ?? join(repoRoot(), '.cache');
  const d = part ? join(base, part) : base;
  mkdirSync(d, { recursive: true });
  return resolve(d);
}

/** A sibling name no other process or thread will pick. */
export const tempName = (final: string): string => `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Publish `tmp` as `final`; if another writer got there first, theirs (same content by construction) stays. */
export function publish(tmp: string, final: string): void {
  try {
    renameSync(tmp, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Write a small file atomically. */
export function writeAtomic(final: string, data: string | Buffer): void {
  mkdirSync(dirname(final), { recursive: true });
  const tmp = tempName(final);
  writeFileSync(tmp, data);
  renameSync(tmp, final);
}

export function readJson<T>(file: string): T | undefined {
  try { return JSON.parse(readFileSync(file, 'utf8')) as T; } catch { return undefined; }
}
