// sbdf -> word index of the function's block, per thread. Accesses are hot (every guest config access ends here),
// so the lookup is one Map.get on a number, no allocation. The Map is rebuilt whenever the thread attaches to a
// machine, and lazily if the thread attached before initHw ran (M changed, or the magic appeared since).

import { M, LAYOUT, onAttach } from '../mem/machine.js';
import { HW_REGION, HW_MAGIC, HW_COUNT, HW_TABLE, FN_WORDS } from './layout.js';

let cacheFor: Int32Array | undefined;
let ready = false;
let regionBase = -1;
const blocks = new Map<number, number>();

function rebuild(): void {
  const r = LAYOUT?.regions[HW_REGION];
  const base = r ? r.base : -1;
  const now = !!r && Atomics.load(M, r.base) === HW_MAGIC;
  // A worker attaches before every run, mostly to a copy of the machine it ran before: same table, same Map.
  if (now && ready && base === regionBase && same(base)) { cacheFor = M; return; }
  cacheFor = M;
  blocks.clear();
  regionBase = base;
  ready = now;
  if (!ready) return;
  const n = M[regionBase + HW_COUNT];
  for (let i = 0; i < n; i++) blocks.set(M[regionBase + HW_TABLE + i] >>> 0, regionBase + HW_TABLE + n + i * FN_WORDS);
}

/** Does the Map hold exactly the table at base? */
function same(base: number): boolean {
  const n = M[base + HW_COUNT];
  if (n !== blocks.size) return false;
  for (let i = 0; i < n; i++) if (blocks.get(M[base + HW_TABLE + i] >>> 0) !== base + HW_TABLE + n + i * FN_WORDS) return false;
  return true;
}

onAttach(rebuild);

function fresh(): void {
  if (cacheFor !== M || (!ready && regionBase >= 0 && Atomics.load(M, regionBase) === HW_MAGIC)) rebuild();
}

/** Word index (into M) of the function's block, or -1 when no such function exists on the attached machine. */
export function fnBlock(sbdf: number): number {
  const b = blocks.get(sbdf >>> 0);
  if (b !== undefined && cacheFor === M) return b;
  fresh();
  return blocks.get(sbdf >>> 0) ?? -1;
}

/** sbdf of every function on the attached machine, in description order. */
export function hwFunctions(): number[] {
  fresh();
  return [...blocks.keys()];
}
