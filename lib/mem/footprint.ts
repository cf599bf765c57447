// What a verify run records for the model checker (lib/verify), in the machine's optional 'verify' region: per
// scheduling decision the runnable set, the thread at the decision point and whether it was yielding; per step
// (the code one thread runs between two decisions) the word ranges it touched, and which of them it changed; per
// fault point the choice made. Only the thread holding the controlled scheduler's token writes here, so plain
// stores suffice. Off (no region, or not armed), the hot paths pay one flag test: `fpOn`.
//
// Reads and writes: a range's words are copied when the step first touches it, and compared when the step ends
// (the next decision). Steps run one at a time, so a step's effect on memory is exactly its net change: a range
// it touched but left as it was is read (two such steps commute), a changed one written. A range that does not fit
// the copy area, and every range of a run's last step (nobody compares it), counts as written.
//
// A search's run mostly replays the run before it: the same leading decisions and fault choices make the same
// leading steps (a run is fixed by its prefix). Their footprints are known already, so the main thread arms the run
// with how many leading steps to skip (lib/verify/trace.ts); the log's count starts at the entries those steps had,
// so the log fills, and overflows, at the same entry as if they had been recorded. (The C backend's fp records
// every step: a search over compiled C skips nothing.)

import { CTL, M, LAYOUT, onAttach, untouchedByRun } from './machine.js';
import { defineLayout } from './layout.js';

/** Capacities: decisions, footprint entries (step, lo, hi, copy|flag), fault points, copies. */
export const VERIFY_STEPS = 4096, VERIFY_FP = 8192, VERIFY_FAULTS = 1024, VERIFY_SNAP = 32768;
export const FP_ENTRY = 4;
/** Entry word 3: the copy's offset in the copy area, or one of: */
export const FP_WRITTEN = -1, FP_READ = -2;
const MAX_COPY = 1024;

/** The region (offsets from VB): header words, then its arrays. ARMED: 0 off, else 1 + the leading steps not recorded. */
export const VERIFY = defineLayout('verify', {
  ARMED: 1, STEP: 1, FP_N: 1, FP_OVER: 1, FLT_N: 1, FLT_KINDS: 1, FLT_MAX: 1, FLT_TAKEN: 1, STEPS_N: 1, STEP_OVER: 1,
  STEP_FIRST: 1, SNAP_N: 1,
  STEPS: 2 * VERIFY_STEPS,                           // per decision: runnable set, thread | yielding
  FP: FP_ENTRY * VERIFY_FP,                          // footprint entries
  FLT: 2 * VERIFY_FAULTS,                            // per fault point: step, kind | flags
  FORCED: VERIFY_FAULTS / 32,                        // forced-fault bitmap
  SNAP: VERIFY_SNAP,                                 // copies of touched ranges
});
export const VERIFY_WORDS = VERIFY.words;

// A run writes the decision, footprint and fault arrays only below their counts, which only grow during a run: a
// restore from the boot image (lib/mem/machine.ts) may skip the rest, which still holds the image's words. The copy
// area is reused from its start by every step, and a step copies only ranges it has an entry for: no step copied
// more than the largest sum of its entries' lengths.
untouchedByRun((m, layout) => {
  const r = layout.regions.verify;
  return r && [r.base + VERIFY.STEPS + 2 * Math.min(m[r.base + VERIFY.STEPS_N], VERIFY_STEPS), r.base + VERIFY.FP];
});
untouchedByRun((m, layout) => {
  const r = layout.regions.verify;
  return r && [r.base + VERIFY.FP + FP_ENTRY * Math.min(m[r.base + VERIFY.FP_N], VERIFY_FP), r.base + VERIFY.FLT];
});
untouchedByRun((m, layout) => {
  const r = layout.regions.verify;
  return r && [r.base + VERIFY.FLT + 2 * Math.min(m[r.base + VERIFY.FLT_N], VERIFY_FAULTS), r.base + VERIFY.FORCED];
});
untouchedByRun((m, layout, image) => {
  const r = layout.regions.verify;
  if (!r) return undefined;
  let sum = image[r.base + VERIFY.SNAP_N], most = sum, step = m[r.base + VERIFY.FP];
  for (let e = r.base + VERIFY.FP, end = e + FP_ENTRY * Math.min(m[r.base + VERIFY.FP_N], VERIFY_FP); e < end; e += FP_ENTRY) {
    if (m[e] !== step) { step = m[e]; sum = 0; }
    sum += Math.max(0, m[e + 2] - m[e + 1]);
    if (sum > most) most = sum;
  }
  return [r.base + VERIFY.SNAP + Math.min(most, VERIFY_SNAP), r.base + r.words];
});

export let fpOn = false;
/** Base of the region and of its arrays (word indices into M). */
export let VB = 0, VSTEPS = 0, VFP = 0, VFLT = 0, VFORCED = 0, VSNAP = 0;
/** Header words fp and endStep read on every call, as absolute indices. */
let FP_N = 0, STEP_FIRST = 0, STEP = 0, ARMED = 0;

onAttach(() => {
  const r = LAYOUT.regions.verify;
  VB = r ? r.base : 0;
  VSTEPS = VB + VERIFY.STEPS;
  VFP = VB + VERIFY.FP;
  VFLT = VB + VERIFY.FLT;
  VFORCED = VB + VERIFY.FORCED;
  VSNAP = VB + VERIFY.SNAP;
  FP_N = VB + VERIFY.FP_N;
  STEP_FIRST = VB + VERIFY.STEP_FIRST;
  STEP = VB + VERIFY.STEP;
  ARMED = VB + VERIFY.ARMED;
  fpOn = r !== undefined && M[VB + VERIFY.ARMED] !== 0;
});

/**
 * Is the step under way recorded (fpOn)? Most of a search's steps are not: the main thread has them from the run
 * before (ARMED), and fp records nothing for them; a caller may skip working out the range.
 */
export function fpRecording(): boolean { return M[STEP] >= M[ARMED] - 1; }

/** The step under way touches words [lo, hi). A range already recorded in this step keeps its first copy. */
export function fp(lo: number, hi: number): void {
  const m = M, n = m[FP_N];
  if (m[STEP] < m[ARMED] - 1) return; // a step the main thread has from the run before
  // Repeats record nothing, like a stopped run's threads below. This part is kept small enough for the compiler to
  // inline at the call sites; the newest range first: most repeats are of it.
  for (let e = VFP + FP_ENTRY * (n - 1), first = VFP + FP_ENTRY * m[STEP_FIRST]; e >= first; e -= FP_ENTRY) {
    if (m[e + 1] === lo && m[e + 2] === hi) return;
  }
  record(m, lo, hi, n);
}

function record(m: Int32Array, lo: number, hi: number, n: number): void {
  const step = m[STEP];
  if (Atomics.load(m, CTL.STOP) !== 0) return; // threads unwinding a finished run are not steps
  if (n >= VERIFY_FP) { if (m[VB + VERIFY.FP_OVER] === 0) m[VB + VERIFY.FP_OVER] = step + 1; return; }
  const e = VFP + FP_ENTRY * n;
  m[e] = step; m[e + 1] = lo; m[e + 2] = hi;
  const len = hi - lo, s = m[VB + VERIFY.SNAP_N];
  if (lo >= 0 && len > 0 && len <= MAX_COPY && hi <= m.length && s + len <= VERIFY_SNAP) {
    const to = VSNAP + s;
    // copyWithin is a call into the runtime: a short range apart from the copy area is cheaper copied here.
    if (len <= SHORT_COPY && (hi <= to || lo >= to + len)) for (let k = 0; k < len; k++) m[to + k] = m[lo + k];
    else m.copyWithin(to, lo, hi);
    m[VB + VERIFY.SNAP_N] = s + len;
    m[e + 3] = s;
  } else m[e + 3] = FP_WRITTEN;
  m[FP_N] = n + 1;
}
const SHORT_COPY = 16;

/** The step under way ends: each of its ranges is written if its words changed since first touched, else read. */
function endStep(): void {
  const m = M, n = m[FP_N];
  for (let e = VFP + FP_ENTRY * m[STEP_FIRST], end = VFP + FP_ENTRY * n; e < end; e += FP_ENTRY) {
    const s = m[e + 3];
    if (s < 0) continue;
    const lo = m[e + 1], hi = m[e + 2];
    const k = VSNAP + s - lo;
    let w = lo;
    while (w < hi && m[w] === m[w + k]) w++;
    m[e + 3] = w === hi ? FP_READ : FP_WRITTEN;
  }
  m[STEP_FIRST] = n;
  m[VB + VERIFY.SNAP_N] = 0;
}

/** The controlled scheduler made decision `step`: who could run, who was at the decision point, was it yielding. */
export function fpDecision(step: number, runnable: number, current: number, yielding: boolean): void {
  endStep();
  if (step < VERIFY_STEPS) {
    M[VSTEPS + 2 * step] = runnable;
    M[VSTEPS + 2 * step + 1] = ((current + 1) & 0xff) | (yielding ? 0x100 : 0);
    M[VB + VERIFY.STEPS_N] = step + 1;
  } else M[VB + VERIFY.STEP_OVER] = 1;
  M[VB + VERIFY.STEP] = step; // footprints from now on belong to the step this decision starts
}
