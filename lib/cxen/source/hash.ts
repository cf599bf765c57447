// Content hashes for cache keys and provenance. A file's hash is remembered by (size, mtime, inode) in memory, and
// a whole tree's hashes in a manifest on disk, so a repeated run over an unchanged tree reads no file contents.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';
import { cacheDir, readJson, writeAtomic } from './cache.js';

export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

const stamp = (s: Stats): string => `${s.size}:${s.mtimeMs}:${s.ino}`;
const memo = new Map<string, { stamp: string; sha: string }>();

/** sha256 of a file's content; undefined if it does not exist. */
export function fileSha(path: string): string | undefined {
  let s: Stats;
  try { s = statSync(path); } catch { return undefined; }
  const k = stamp(s), m = memo.get(path);
  if (m && m.stamp === k) return m.sha;
  const sha = sha256(readFileSync(path));
  memo.set(path, { stamp: k, sha });
  return sha;
}

/** Build outputs of a reviewer's built tree: not sources, and they change on every build. */
export const isBuildOutput = (name: string): boolean => /\.(o|a|d|cmd|so|tmp|efi|gz|map)$/.test(name) || name === '.git';

/** Every regular file under `dir` (relative paths, sorted), skipping .git and build outputs. */
export function listFiles(dir: string, sub = ''): string[] {
  const out: string[] = [];
  let entries;
  try { entries = readdirSync(join(dir, sub), { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (isBuildOutput(e.name)) continue;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

type Manifest = Record<string, { stamp: string; sha: string }>;

/**
 * { relpath: sha256 } of every file under `root`'s `parts` (e.g. ['xen']). Hashes of files whose size, mtime and
 * inode are unchanged since the last call come from a manifest in the cache (keyed by the directory's path).
 */
export function treeHashes(root: string, parts: string[], cache?: string): Record<string, string> {
  const file = join(cacheDir('manifests', cache), `${sha256(`${root}\0${parts.join('\0')}`).slice(0, 24)}.json`);
  const old = readJson<Manifest>(file) ?? {};
  const now: Manifest = {};
  let changed = false;
  for (const part of parts) {
    for (const rel of listFiles(root, part)) {
      const abs = join(root, rel);
      const k = stamp(statSync(abs));
      const prev = old[rel];
      if (prev && prev.stamp === k) now[rel] = prev;
      else { now[rel] = { stamp: k, sha: sha256(readFileSync(abs)) }; changed = true; }
    }
  }
  if (changed || Object.keys(old).length !== Object.keys(now).length) writeAtomic(file, JSON.stringify(now));
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v.sha]));
}

/** One hash for a { name: sha } map (order-independent). */
export const mapSha = (m: Record<string, string>): string => sha256(Object.keys(m).sort().map((k) => `${k}\0${m[k]}\n`).join(''));

export const relTo = (root: string, p: string): string => relative(root, p) || '.';
