// Which patch function each CPU is inside, published in shared memory (region 'inpatch', one word per CPU), so that
// when a CPU runs a patch file's code and never comes back to a yield point, the main thread can say where it is
// ("d0v1 ran 15 s inside the patch's vpci_read"): the stuck thread itself can report nothing. Only replacements
// from patch files are wrapped; the built-in strategies run unwrapped.

import { M, cpu, onAttach, LAYOUT } from '../mem/machine.js';

/** Words of the region a machine needs for this (bootMachine adds it). */
export const INPATCH_REGION = 'inpatch';

let base = -1;
onAttach(() => { base = LAYOUT.regions[INPATCH_REGION]?.base ?? -1; });

/** `f` with this CPU's word set to `id` while it runs (restored on return or throw, nested calls included). */
export function guarded<F extends (...args: never[]) => unknown>(f: F, id: number): F {
  return function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    if (base < 0) return f.apply(this, args) as ReturnType<F>;
    const at = base + cpu, was = M[at];
    M[at] = id;
    try { return f.apply(this, args) as ReturnType<F>; } finally { M[at] = was; }
  } as unknown as F;
}

/** The id each CPU was last seen inside (0: none), read on the main thread after a trial. */
export function inPatch(c: number): number {
  const r = LAYOUT?.regions[INPATCH_REGION];
  return r ? M[r.base + c] : 0;
}
