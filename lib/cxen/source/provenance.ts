// Which Xen ran, for reports and JSON: version (xen/Makefile's, and Debian's for the fetched package), commit for a
// git checkout, the hashes of the files compiled (or, before compiling, of the vPCI files), the patches applied.

import { basename, relative, isAbsolute } from 'node:path';
import type { XenTree } from './tree.js';
import type { Compiled } from './compile.js';
import { mapSha as allSha } from './hash.js';

export interface XenProvenance {
  version: string;
  debianVersion?: string;
  commit?: string;
  dirty?: boolean;
  origin: XenTree['origin'];
  generation: XenTree['generation'];
  src: string;
  files: Record<string, string>;                         // tree-relative path -> sha256
  patches: { path: string; sha256: string; notes?: string[] }[];
}

/** Compiled inputs inside the tree, by tree-relative path (system headers left out: the compiler line names them). */
function treeInputs(tree: XenTree, compiled: Compiled[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of compiled) {
    for (const [p, h] of Object.entries(c.inputs)) {
      const rel = relative(tree.dir, p);
      if (!rel.startsWith('..') && !isAbsolute(rel)) out[rel] = h;
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export function xenProvenance(tree: XenTree, compiled: Compiled[] = []): XenProvenance {
  const inputs = treeInputs(tree, compiled);
  const p: XenProvenance = {
    version: tree.version,
    origin: tree.origin,
    generation: tree.generation,
    src: tree.src,
    files: Object.keys(inputs).length ? inputs : tree.files,
    patches: tree.patches.map((x) => ({ path: x.path, sha256: x.sha256, ...(x.notes ? { notes: x.notes } : {}) })),
  };
  if (tree.debianVersion) p.debianVersion = tree.debianVersion;
  if (tree.commit) p.commit = tree.commit;
  if (tree.dirty) p.dirty = true;
  return p;
}

/** One line for a text report: "Xen 4.17.5 (Debian 4.17.5+72-g01140da4e8), 14 files, patches: x.patch (sha256 1a2b3c4d)". */
export function provenanceLine(p: XenProvenance): string {
  const who = p.debianVersion ? `Xen ${p.version} (Debian ${p.debianVersion})`
    : p.commit ? `Xen ${p.version} at ${p.commit.slice(0, 10)}${p.dirty ? ' with local changes' : ''}` : `Xen ${p.version} from ${p.src}`;
  const files = `${Object.keys(p.files).length} files (sha256 of all ${allSha(p.files).slice(0, 12)})`;
  const patches = p.patches.length ? `patches: ${p.patches.map((x) => `${basename(x.path)} (sha256 ${x.sha256.slice(0, 12)})`).join(', ')}` : 'no patches';
  return `${who}, ${p.generation} generation, ${files}, ${patches}`;
}


