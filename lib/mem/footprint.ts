// What a verify run records for the model checker (lib/verify), in the machine's optional 'verify' region: per
// scheduling decision the runnable set, the thread at the decision point and whether it was yielding; per step
// (the code one thread runs between two decisions) the word ranges it touched; per fault point the choice made.
// Only the thread holding the controlled scheduler's token writes here, so plain stores suffice. Off (no region,
// or not armed), the hot paths pay one flag test: `fpOn`.

import { CTL, M, LAYOUT, onAttach } from './machine.js';

/** Header words of the region (offsets from VB). */
export const VH = {
  ARMED: 0, STEP: 1, FP_N: 2, FP_OVER: 3, FLT_N: 4, FLT_KINDS: 5, FLT_MAX: 6, FLT_TAKEN: 7, STEPS_N: 8, STEP_OVER: 9,
} as const;
export const VERIFY_HEADER_WORDS = 16;
/** Capacities: decisions, footprint entries (step, lo, hi), fault points (step, info), forced-fault bitmap. */
export const VERIFY_STEPS = 4096, VERIFY_FP = 8192, VERIFY_FAULTS = 1024;
export const VERIFY_WORDS = VERIFY_HEADER_WORDS + 2 * VERIFY_STEPS + 3 * VERIFY_FP + 2 * VERIFY_FAULTS + VERIFY_FAULTS / 32;

export let fpOn = false;
/** Base of the region and of its arrays (word indices into M). */
export let VB = 0, VSTEPS = 0, VFP = 0, VFLT = 0, VFORCED = 0;

onAttach(() => {
  const r = LAYOUT.regions.verify;
  VB = r ? r.base : 0;
  VSTEPS = VB + VERIFY_HEADER_WORDS;
  VFP = VSTEPS + 2 * VERIFY_STEPS;
  VFLT = VFP + 3 * VERIFY_FP;
  VFORCED = VFLT + 2 * VERIFY_FAULTS;
  fpOn = r !== undefined && M[VB + VH.ARMED] !== 0;
});

/** The step under way touches words [lo, hi). Repeats of the last entry are dropped; a full log marks overflow. */
export function fp(lo: number, hi: number): void {
  if (Atomics.load(M, CTL.STOP) !== 0) return; // threads unwinding a finished run are not steps
  const n = M[VB + VH.FP_N], step = M[VB + VH.STEP];
  const e = VFP + 3 * n;
  if (n > 0 && M[e - 3] === step && M[e - 2] === lo && M[e - 1] === hi) return;
  if (n >= VERIFY_FP) { if (M[VB + VH.FP_OVER] === 0) M[VB + VH.FP_OVER] = step + 1; return; }
  M[e] = step; M[e + 1] = lo; M[e + 2] = hi;
  M[VB + VH.FP_N] = n + 1;
}

/** The controlled scheduler made decision `step`: who could run, who was at the decision point, was it yielding. */
export function fpDecision(step: number, runnable: number, current: number, yielding: boolean): void {
  if (step < VERIFY_STEPS) {
    M[VSTEPS + 2 * step] = runnable;
    M[VSTEPS + 2 * step + 1] = ((current + 1) & 0xff) | (yielding ? 0x100 : 0);
    M[VB + VH.STEPS_N] = step + 1;
  } else M[VB + VH.STEP_OVER] = 1;
  M[VB + VH.STEP] = step; // footprints from now on belong to the step this decision starts
}
