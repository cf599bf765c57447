// prepareXenTree: the Xen tree a C-backend run compiles. A tree the user points at is used in place when no patch
// is given (it is only read); with patches, its xen/ (and tools/tests/vpci/) is copied into the cache and the
// patches applied to the copy, never to the user's tree. Copies are named by the hash of the tree's content and
// the patches', so a repeated run finds its copy ready.

import { cpSync, existsSync, readdirSync, rmSync, mkdirSync, copyFileSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { join, resolve, dirname, basename } from 'node:path';
import { XenSourceError } from './errors.js';
import { cacheDir, publish, readJson, tempName } from './cache.js';
import { fileSha, treeHashes, mapSha, sha256, isBuildOutput } from './hash.js';
import { checkXenTree, identify, MARK, type SourceMark, type XenIdentity } from './identify.js';
import { applyPatch, applyTool, readPatch, type AppliedPatch } from './apply.js';
import { pathOf } from './diff.js';

export interface PrepareOptions {
  src?: string;          // any Xen tree; default $VPCI_XEN_SRC, else Debian's source fetched by `npm run xen:source`
  patches?: string[];    // unified diffs applied in order (-p1) to a copy
  cacheDir?: string;     // default $VPCI_LAB_CACHE or <checkout>/.cache
}

export interface XenTree extends XenIdentity {
  dir: string;                       // the tree to compile from; read-only (the user's own when no patch is given)
  src: string;                       // the tree it came from
  files: Record<string, string>;     // sha256 of the vPCI-related files in `dir` (relative paths)
  patches: AppliedPatch[];
}

/** The directories a prepared copy holds: what the C backend compiles and Xen's own vPCI test harness. */
const SCOPE = ['xen', 'tools/tests/vpci'];

/** The files whose hashes a report shows even before anything is compiled. */
const RELATED = [
  'xen/drivers/passthrough/pci.c', 'xen/common/rangeset.c', 'xen/include/xen/vpci.h', 'xen/include/xen/rangeset.h',
  'xen/include/xen/pci.h', 'xen/arch/x86/hvm/vmsi.c', 'xen/arch/x86/include/asm/hvm/io.h', 'xen/include/asm-x86/hvm/io.h',
];

function relatedHashes(dir: string, extra: string[]): Record<string, string> {
  const vpci = readdirSync(join(dir, 'xen/drivers/vpci')).filter((f) => /\.[ch]$/.test(f)).map((f) => `xen/drivers/vpci/${f}`);
  const out: Record<string, string> = {};
  for (const rel of [...vpci, ...RELATED, ...extra].sort()) {
    const sha = fileSha(join(dir, rel));
    if (sha) out[rel] = sha;
  }
  return out;
}

/** Trees `npm run xen:source` left in the cache (Debian's, and exports from git), newest first. */
export function cachedXenTrees(root?: string): { dir: string; mark: SourceMark }[] {
  const base = cacheDir('xen', root);
  return readdirSync(base)
    .filter((n) => !n.includes('.tmp-'))
    .map((n) => ({ dir: join(base, n), mark: readJson<SourceMark>(join(base, n, MARK)) }))
    .filter((t): t is { dir: string; mark: SourceMark } => t.mark !== undefined)
    .sort((a, b) => statSync(b.dir).mtimeMs - statSync(a.dir).mtimeMs);
}

function defaultSource(root?: string): string {
  const t = cachedXenTrees(root).find((x) => x.mark.origin === 'debian');
  if (!t) throw new XenSourceError('no-source', 'no Xen source: pass --xen-src DIR (a Xen tree) or run `npm run xen:source` to fetch Debian\'s');
  return t.dir;
}

/** Copy the tree's scope and any file outside it a patch touches, then apply the patches in order. */
function buildCopy(src: string, dest: string, patches: { file: string; sha: string }[]): AppliedPatch[] {
  mkdirSync(dest, { recursive: true });
  for (const part of SCOPE) {
    if (existsSync(join(src, part))) cpSync(join(src, part), join(dest, part), { recursive: true, filter: (p) => !isBuildOutput(basename(p)) });
  }
  if (existsSync(join(src, MARK))) copyFileSync(join(src, MARK), join(dest, MARK));
  for (const p of patches) {
    for (const rel of readPatch(p.file).files.map(pathOf)) {
      if (!SCOPE.some((s) => rel.startsWith(`${s}/`)) && existsSync(join(src, rel))) {
        mkdirSync(dirname(join(dest, rel)), { recursive: true });
        copyFileSync(join(src, rel), join(dest, rel));
      }
    }
  }
  return patches.map((p) => applyPatch(dest, p.file, p.sha));
}

/** Prepared copies are ~20 MB each: keep the 16 most recently used, and any used in the last ten minutes. */
function prune(base: string, keep = 16, graceMs = 600_000): void {
  const entries = readdirSync(base).filter((n) => !n.includes('.tmp-')).map((n) => ({ p: join(base, n), t: statSync(join(base, n)).mtimeMs }));
  entries.sort((a, b) => b.t - a.t);
  for (const e of entries.slice(keep)) if (Date.now() - e.t > graceMs) rmSync(e.p, { recursive: true, force: true });
}

export function prepareXenTree(o: PrepareOptions = {}): XenTree {
  const given = o.src ?? (process.env.VPCI_XEN_SRC || undefined);
  const src = resolve(given ?? defaultSource(o.cacheDir));
  checkXenTree(src, given ?? src);
  const id = identify(src);
  const patches = (o.patches ?? []).map((f) => {
    const file = resolve(f);
    return { file, sha: sha256(readPatch(file).text) };
  });
  if (!patches.length) return { ...id, dir: src, src, files: relatedHashes(src, []), patches: [] };

  const key = sha256(JSON.stringify({ v: 1, tool: applyTool(), tree: mapSha(treeHashes(src, SCOPE.filter((s) => existsSync(join(src, s))), o.cacheDir)), patches: patches.map((p) => p.sha) })).slice(0, 24);
  const dir = join(cacheDir('prepared', o.cacheDir), key);
  const record = join(dir, '.vpci-lab-patches.json');
  let applied = readJson<AppliedPatch[]>(record);
  if (!applied) {
    const tmp = tempName(dir);
    try {
      applied = buildCopy(src, tmp, patches);
      writeFileSync(join(tmp, '.vpci-lab-patches.json'), JSON.stringify(applied));
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    publish(tmp, dir);
    applied = readJson<AppliedPatch[]>(record) ?? applied;
    prune(dirname(dir));
  } else {
    const now = new Date();
    utimesSync(dir, now, now);                            // most recently used: the last to be pruned
  }
  // The record's paths are those of the run that built the copy; this run names its own files.
  const mine = applied.map((a, i) => ({ ...a, path: patches[i].file }));
  const touched = mine.flatMap((a) => a.files);
  return { ...id, dir, src, files: relatedHashes(dir, touched), patches: mine };
}
