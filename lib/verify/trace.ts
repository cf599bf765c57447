// The main thread's side of a verify run: arm the machine's 'verify' region before the threads start (fault kinds,
// fault budget, forced faults), and read back what the run recorded (lib/mem/footprint.ts) as a trace.

import { M, LAYOUT, CTL } from '../mem/machine.js';
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

/** What a run of a search needs to skip the leading steps it shares with the search's previous run. */
export interface Replaying {
  /** Identifies the search (one scenario, strategy and options): only its own runs are compared. */
  key: object;
  /** The run's forced decisions (it is fixed by these and `forced`). */
  decisions: Uint8Array;
}

/** The last run read back (readTrace) of a search, and what the run being armed skips of it. */
let last: { key: object; decisions: Uint8Array; forced: readonly number[]; trace: Trace; over: number } | null = null;
let armed: { skip: number; base: number; from: Trace | null; key: object | null; forced: readonly number[] } = { skip: 0, base: 0, from: null, key: null, forced: [] };

/** Main thread, after boot and before the run: make fault points and footprints recorded on every CPU. */
export function armVerify(o: { kinds: number; maxFaults: number; forced: readonly number[]; replaying?: Replaying }): void {
  if (!LAYOUT.regions.verify) throw new Error('the machine has no verify region');
  const b = LAYOUT.regions.verify.base;
  const skip = o.replaying ? shared(o.replaying, o.forced) : 0;
  let base = 0;
  for (let s = 0; s < skip; s++) base += last!.trace.steps[s].fp.length / 3;
  armed = { skip, base, from: skip > 0 ? last!.trace : null, key: o.replaying?.key ?? null, forced: o.forced };
  M[b + VERIFY.ARMED] = 1 + skip;
  M[b + VERIFY.FP_N] = base;
  M[b + VERIFY.STEP_FIRST] = base;
  M[b + VERIFY.FLT_KINDS] = o.kinds;
  M[b + VERIFY.FLT_MAX] = o.maxFaults;
  for (const i of o.forced) {
    if (i >= VERIFY_FAULTS) throw new RangeError(`fault index ${i} past the log's ${VERIFY_FAULTS}`);
    const w = b + (VFORCED - VB) + (i >>> 5);
    M[w] |= 1 << (i & 31);
  }
}

/**
 * How many leading steps of the search's last run this run repeats: step s is fixed by decisions 0..s and the
 * fault choices made in steps 0..s. Only steps the last run ended with a decision (so compared), and none the
 * log's overflow made universal.
 */
function shared(r: Replaying, forced: readonly number[]): number {
  if (last === null || last.key !== r.key) return 0;
  const tr = last.trace;
  let n = Math.min(r.decisions.length, last.decisions.length, tr.steps.length - 1);
  if (last.over !== 0) n = Math.min(n, last.over - 1);
  let c = 0;
  while (c < n && r.decisions[c] === last.decisions[c]) c++;
  const f = firstDifference(forced, last.forced);
  if (f < tr.faults.length) c = Math.min(c, tr.faults[f].step);
  return Math.max(c, 0);
}

/** The lowest fault index forced in one list and not the other (Infinity: the same lists). */
function firstDifference(a: readonly number[], b: readonly number[]): number {
  let low = Infinity;
  for (const i of a) if (i < low && !b.includes(i)) low = i;
  for (const i of b) if (i < low && !a.includes(i)) low = i;
  return low;
}

/** Main thread, after the run: decisions (from the schedule log) joined with what the region recorded. */
export function readTrace(threads: number, decisions: Uint8Array): Trace {
  const b = LAYOUT.regions.verify.base, off = (x: number): number => b + (x - VB);
  const n = Math.min(decisions.length, M[b + VERIFY.STEPS_N]);
  const over = M[b + VERIFY.FP_OVER];
  const { skip, base, from } = armed;
  const steps: Step[] = [];
  const vs = off(VSTEPS);
  for (let s = 0; s < n; s++) {
    const runnable = M[vs + 2 * s], info = M[vs + 2 * s + 1], current = (info & 0xff) - 1, yielding = (info & 0x100) !== 0;
    const universal = over !== 0 && s >= over - 1, thread = decisions[s];
    // A skipped step is the last run's: its object is shared when the words it was read from agree (steps are
    // never changed once read), which spares most of a run's allocations here; its ranges are the last run's.
    const was = s < skip ? from!.steps[s] : undefined;
    if (was !== undefined && was.thread === thread && was.runnable === runnable && was.current === current && was.yielding === yielding && was.universal === universal) steps.push(was);
    else steps.push({ thread, runnable, current, yielding, fp: was !== undefined ? was.fp : [], universal });
  }
  const nfp = M[b + VERIFY.FP_N];
  for (let i = base; i < nfp; i++) {
    const e = off(VFP) + FP_ENTRY * i;
    const s = M[e];
    // A range of the last step was never compared (the run ended there): written.
    if (s >= skip && s < n) steps[s].fp.push(M[e + 1], M[e + 2], M[e + 3] === FP_READ ? 0 : 1);
  }
  const faults: FaultPoint[] = [];
  const nf = Math.min(M[b + VERIFY.FLT_N], VERIFY_FAULTS);
  const vf = off(VFLT), lastFaults = from !== null ? from.faults : undefined;
  for (let i = 0; i < nf; i++) {
    const step = M[vf + 2 * i], info = M[vf + 2 * i + 1], kind = info & 0xf;
    const fail = (info & FLT_FAIL) !== 0, branch = (info & FLT_BRANCH) !== 0, scripted = (info & FLT_SCRIPTED) !== 0;
    // Likewise a fault point the last run logged alike (in the replayed steps, mostly).
    const was = lastFaults !== undefined && i < lastFaults.length ? lastFaults[i] : undefined;
    if (was !== undefined && was.step === step && was.kind === kind && was.fail === fail && was.branch === branch && was.scripted === scripted) faults.push(was);
    else faults.push({ index: i, step, kind, fail, branch, scripted });
  }
  const trace = { threads, steps, faults };
  // The compiled C records its footprints (native/runtime.c) whatever the arming: where it ran, nothing is skipped.
  const ranC = M[CTL.NATIVE_CODE] !== 0 || M[CTL.NATIVE_CODE + 1] !== 0;
  last = armed.key === null || ranC ? null : { key: armed.key, decisions, forced: armed.forced, trace, over };
  return trace;
}
