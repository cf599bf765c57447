// The main thread's side of a verify run: arm the machine's 'verify' region before the threads start (fault kinds,
// fault budget, forced faults), and read back what the run recorded (lib/mem/footprint.ts) as a trace.

import { M, LAYOUT } from '../mem/machine.js';
import { VB, VERIFY, VSTEPS, VFP, VFLT, VFORCED, VERIFY_FAULTS, VERIFY_WORDS, FP_ENTRY, FP_READ } from '../mem/footprint.js';
import { FLT_BRANCH, FLT_FAIL, FLT_SCRIPTED } from '../sched/fault.js';

export { VERIFY_WORDS };
/** Every fault kind (iommu, map, alloc) as a bit mask. */
export const ALL_FAULT_KINDS = 0b1111;

export interface Step {
  thread: number;
  runnable: number;
  /** The thread at the decision point (-1: none, at the start or after a thread ended). */
  current: number;
  yielding: boolean;
  /** Word ranges the step touched, and whether it changed them: [lo0, hi0, written0, lo1, hi1, written1, ...]. */
  fp: number[];
  /** The footprint log overflowed here or earlier: treat the step as touching everything. */
  universal: boolean;
}

export interface FaultPoint { index: number; step: number; kind: number; fail: boolean; branch: boolean; scripted: boolean }

export interface Trace { threads: number; steps: Step[]; faults: FaultPoint[] }

/** Main thread, after boot and before the run: make fault points and footprints recorded on every CPU. */
export function armVerify(o: { kinds: number; maxFaults: number; forced: readonly number[] }): void {
  if (!LAYOUT.regions.verify) throw new Error('the machine has no verify region');
  const b = LAYOUT.regions.verify.base;
  M[b + VERIFY.ARMED] = 1;
  M[b + VERIFY.FLT_KINDS] = o.kinds;
  M[b + VERIFY.FLT_MAX] = o.maxFaults;
  for (const i of o.forced) {
    if (i >= VERIFY_FAULTS) throw new RangeError(`fault index ${i} past the log's ${VERIFY_FAULTS}`);
    const w = b + (VFORCED - VB) + (i >>> 5);
    M[w] |= 1 << (i & 31);
  }
}

/** Main thread, after the run: decisions (from the schedule log) joined with what the region recorded. */
export function readTrace(threads: number, decisions: Uint8Array): Trace {
  const b = LAYOUT.regions.verify.base, off = (x: number): number => b + (x - VB);
  const n = Math.min(decisions.length, M[b + VERIFY.STEPS_N]);
  const over = M[b + VERIFY.FP_OVER];
  const steps: Step[] = [];
  for (let s = 0; s < n; s++) {
    const info = M[off(VSTEPS) + 2 * s + 1];
    steps.push({ thread: decisions[s], runnable: M[off(VSTEPS) + 2 * s], current: (info & 0xff) - 1, yielding: (info & 0x100) !== 0, fp: [], universal: over !== 0 && s >= over - 1 });
  }
  const nfp = M[b + VERIFY.FP_N];
  for (let i = 0; i < nfp; i++) {
    const e = off(VFP) + FP_ENTRY * i;
    const s = M[e];
    // A range of the last step was never compared (the run ended there): written.
    if (s >= 0 && s < n) steps[s].fp.push(M[e + 1], M[e + 2], M[e + 3] === FP_READ ? 0 : 1);
  }
  const faults: FaultPoint[] = [];
  const nf = Math.min(M[b + VERIFY.FLT_N], VERIFY_FAULTS);
  for (let i = 0; i < nf; i++) {
    const info = M[off(VFLT) + 2 * i + 1];
    faults.push({ index: i, step: M[off(VFLT) + 2 * i], kind: info & 0xf, fail: (info & FLT_FAIL) !== 0, branch: (info & FLT_BRANCH) !== 0, scripted: (info & FLT_SCRIPTED) !== 0 });
  }
  return { threads, steps, faults };
}
