// `--backend c`: from a Xen tree (and patches) to a strategy the engines run like any other. The tree and its
// patches come from lib/cxen/source (prepareXenTree: Debian's source fetched by `npm run xen:source` by default,
// --xen-src DIR, --patch applied to a cached copy, provenance); the build is build.ts; the strategy is
// lib/cxen/backend.js with the build named in its URL, so that every worker of every machine installs the same
// build. Expectations: the C build is judged as the TypeScript strategy it stands for (cli/backend.ts).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStrategy, type Strategy } from '../strategy/index.js';
import { prepareXenTree, xenProvenance, provenanceLine as sourceLine, isXenSourceError, type XenProvenance } from './source/index.js';
import { buildAddon, BuildError } from './build.js';
import { XEN_417, XEN_HEAD } from './recipes.js';

export interface CBackendOptions {
  /** A Xen tree; default $VPCI_XEN_SRC, else the Debian source `npm run xen:source` cached. */
  xenSrc?: string;
  /** Unified diffs applied (-p1) to a copy of the tree, in order. */
  patches?: readonly string[];
  release?: boolean;
}

export interface CBackend {
  strategy: Strategy;
  /** What ran, for reports: version, origin, generation, files' hashes, patches; and the build's hash. */
  provenance: XenProvenance & { build: string };
}

/** Bad input for the C backend (no compiler, not a Xen tree, a patch that does not apply, a compiler error): one line. */
export class CBackendError extends Error { constructor(m: string) { super(m); this.name = 'CBackendError'; } }

/** What each generation of tree compiles and which strategy module races it (its base: the model's generation). */
const GENERATIONS: Record<string, { recipe: typeof XEN_417; module: string } | undefined> = {
  l21: { recipe: XEN_417, module: './backend.js' },
  head: { recipe: XEN_HEAD, module: './backend-head.js' },
};

/** Compile the tree (with patches) and load its strategy in this thread. Throws CBackendError with one line. */
export async function cBackend(o: CBackendOptions): Promise<CBackend> {
  let tree;
  try { tree = prepareXenTree({ src: o.xenSrc ?? process.env.VPCI_XEN_SRC, patches: o.patches ? [...o.patches] : undefined }); } catch (e) {
    if (isXenSourceError(e)) throw new CBackendError(e.message);
    throw e;
  }
  const gen = GENERATIONS[tree.generation];
  if (!gen) {
    throw new CBackendError(`${tree.src} is Xen ${tree.version}, of the ${tree.generation} generation: the C backend compiles late-2021-shaped trees (such as Debian's 4.17.5) and HEAD-shaped ones (4.19 on)`);
  }
  let built;
  try { built = await buildAddon({ xenDir: tree.dir, recipe: gen.recipe, release: o.release }); } catch (e) {
    if (e instanceof BuildError) throw new CBackendError(e.message);
    throw e;
  }
  const suffix = tree.patches.map((p) => `-${path.basename(p.path).replace(/\.(patch|diff)$/, '')}`).join('');
  const name = `c-${tree.version}${suffix}`.replace(/[^\w.-]/g, '_');
  const backend = fileURLToPath(new URL(gen.module, import.meta.url));
  const spec = `file://${backend}?addon=${encodeURIComponent(built.path)}&name=${encodeURIComponent(name)}`;
  const strategy = await loadStrategy(spec);
  return { strategy, provenance: { ...xenProvenance(tree), build: built.hash } };
}

/** One line for the terminal: which Xen ran. */
export function provenanceLine(p: CBackend['provenance']): string {
  return `C backend: ${sourceLine(p)}, build ${p.build}`;
}
