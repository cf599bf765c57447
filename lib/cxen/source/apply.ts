// Applying a reviewer's unified diffs to a prepared copy of a Xen tree: GNU patch -p1 where it is installed,
// git apply otherwise. A patch that does not apply is one line naming the patch, the file and the failing hunk.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { XenSourceError } from './errors.js';
import { parseDiff, pathOf, shortHeader, type DiffFile } from './diff.js';

export interface AppliedPatch {
  path: string;              // as given (absolute)
  sha256: string;
  files: string[];           // tree paths it touches
  notes?: string[];          // patch's own remarks: hunks applied at an offset or with fuzz
}

const installed = new Map<string, boolean>();
/** GNU patch, else git apply; VPCI_LAB_PATCH_TOOL=git|patch picks one (the tests use it to try both). */
export function applyTool(): 'patch' | 'git' {
  const want = process.env.VPCI_LAB_PATCH_TOOL;
  const tools: ('patch' | 'git')[] = want === 'git' || want === 'patch' ? [want] : ['patch', 'git'];
  for (const t of tools) {
    if (!installed.has(t)) {
      try { execFileSync(t, ['--version'], { stdio: 'ignore' }); installed.set(t, true); } catch { installed.set(t, false); }
    }
    if (installed.get(t)) return t;
  }
  throw new XenSourceError('patch', `${want ?? 'neither patch nor git'} is not installed: --patch needs patch or git`);
}

/** Read and parse a patch file; one-line errors for a missing file or a file that holds no diff. */
export function readPatch(file: string): { text: string; files: DiffFile[] } {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { throw new XenSourceError('patch', `--patch ${file}: no such file`); }
  const files = parseDiff(text);
  if (!files.length || files.every((f) => !f.hunks.length)) throw new XenSourceError('patch', `--patch ${file}: not a unified diff (no ---/+++ file headers with @@ hunks)`);
  return { text, files };
}

/** Where GNU patch or git apply said it failed, as one line. */
function failure(file: string, files: DiffFile[], out: string, dir: string): string {
  const name = basename(file);
  let current: string | undefined;
  for (const line of out.split('\n')) {
    const p = /^patching file '?([^']+?)'?$/.exec(line);
    if (p) { current = p[1]; continue; }
    const h = /^Hunk #(\d+) FAILED at (\d+)/.exec(line);
    if (h && current) {
      const f = files.find((x) => pathOf(x) === current || x.newPath === current);
      const hunk = f?.hunks[Number(h[1]) - 1];
      return `${name}: hunk #${h[1]}${hunk ? ` (${shortHeader(hunk)})` : ''} of ${current} does not apply`;
    }
    const g = /^error: patch failed: (.+):(\d+)$/.exec(line);
    if (g) {
      const f = files.find((x) => pathOf(x) === g[1]);
      const i = f ? f.hunks.findIndex((x) => x.oldStart === Number(g[2])) : -1;
      return `${name}: hunk #${i + 1 || '?'}${i >= 0 ? ` (${shortHeader(f!.hunks[i])})` : ''} of ${g[1]} does not apply`;
    }
    if (/Reversed \(or previously applied\) patch detected/.test(line)) return `${name}: already applied to ${current ?? 'the tree'} (or reversed)`;
  }
  const absent = files.map(pathOf).find((p) => !existsSync(`${dir}/${p}`) && files.find((f) => pathOf(f) === p)?.oldPath);
  if (absent) return `${name}: ${absent} is not in the tree`;
  const first = out.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('patching file') && !l.startsWith('checking file'));
  return `${name}: does not apply${first ? `: ${first}` : ''}`;
}

/** Apply one patch in `dir` (which must be a copy: this modifies it). */
export function applyPatch(dir: string, file: string, sha: string): AppliedPatch {
  const { files } = readPatch(file);
  const t = applyTool();
  const args = t === 'patch'
    ? ['-p1', '--batch', '--forward', '--fuzz=0', '--no-backup-if-mismatch', '--reject-file=-', '-d', dir, '-i', file]
    : ['apply', '-p1', '--verbose', file];
  // git apply inside another repository (the cache sits in this checkout) would patch relative to that one's top.
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: dirname(dir) };
  const r = spawnSync(t, args, { cwd: dir, encoding: 'utf8', env });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  if (r.status !== 0) throw new XenSourceError('patch', failure(file, files, out, dir));
  const notes = out.split('\n').filter((l) => /offset|fuzz/.test(l)).map((l) => l.trim());
  return { path: file, sha256: sha, files: files.map(pathOf), ...(notes.length ? { notes } : {}) };
}
