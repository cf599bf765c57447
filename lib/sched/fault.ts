// Faults as choices: under a verify run (or the replay of one), each fault point the model reaches is a decision
// recorded beside the scheduling decisions — fail or succeed — instead of a coin flip. The n-th fault point of a
// run (counted over all threads: only the token holder runs, so the count is deterministic) fails when the
// forced-fault bitmap says so; the model checker (lib/verify) flips these bits to branch.

import { CTL, M, onAttach } from '../mem/machine.js';
import { fp, fpOn, fpDecision, VB, VERIFY, VFLT, VFORCED, VERIFY_FAULTS } from '../mem/footprint.js';
import { SCHED_HEADER, schedBase, SCHED_SLOT, slot } from './state.js';
import { MODE_CONTROLLED, SCHED } from './mode.js';

export const FAULT_KINDS = ['iommu', 'map', 'alloc', 'init'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Fault log entry bits: kind in bits 0-3, then: */
export const FLT_FAIL = 0x10, FLT_BRANCH = 0x20, FLT_SCRIPTED = 0x40;

/** FNV-1a step over one 32-bit value: the running digest of sites (schedule strings S2). */
export function mixSite(h: number, v: number): number {
  return Math.imul((h ^ v) | 0, 16777619) | 0;
}

/**
 * The token holder made decision `step` (picked `pick` among `runnable`; `current` was at the decision point): fold
 * it into the site digest, and under verify record it with whether the thread at the decision point was yielding.
 */
export function noteDecision(step: number, runnable: number, current: number, pick: number): void {
  if (fpOn) fpDecision(step, runnable, current, M[schedBase + SCHED_HEADER.YIELDING] !== 0);
  M[schedBase + SCHED_HEADER.YIELDING] = 0;
  M[schedBase + SCHED_HEADER.SITE_HASH] = mixSite(M[schedBase + SCHED_HEADER.SITE_HASH], (current >= 0 ? M[slot(current) + SCHED_SLOT.SITE] : 0xffff) ^ (pick << 16) ^ (runnable << 20));
}

/** A blocked thread was woken: in this new step it rereads the lock it waits for (32 words cover any lock struct). */
export function noteWake(addr: number): void {
  if (fpOn) fp(addr, addr + 32);
}

/** Digest of the sites, picks and runnable sets of the run so far (replays check it to detect a changed model). */
export function siteDigest(): number { return M[schedBase + SCHED_HEADER.SITE_HASH] >>> 0; }

/** Are fault points decisions on this thread now (a verify run or its replay)? */
export function faultsRecorded(): boolean { return fpOn; }

let noted = false;
onAttach(() => { noted = M[CTL.SCHED + SCHED.MODE] === MODE_CONTROLLED; });
/** Outside verify, must this thread's fault points be noted (noteFault): is it a thread of a controlled run? */
export function faultsNoted(): boolean { return noted; }

/**
 * A fault point of a controlled run outside verify, decided by the scenario or --inject: folded into the site
 * digest and counted exactly as faultChoice does, so the run's S2 string (its digest, the indices of its failures)
 * is the one a verify run of the same interleaving prints, and its replay (which forces those failures) checks out.
 */
export function noteFault(kind: number, fail: boolean, scripted: boolean): void {
  const h = schedBase + SCHED_HEADER.SITE_HASH, n = M[schedBase + SCHED_HEADER.FLT_N];
  M[h] = mixSite(M[h], 0x1000000 | kind);
  M[schedBase + SCHED_HEADER.FLT_N] = n + 1;
  if (!fail || scripted) return;
  if (n < VERIFY_FAULTS) M[schedBase + SCHED_HEADER.FLT_FAILED + (n >>> 5)] |= 1 << (n & 31);
  else M[schedBase + SCHED_HEADER.FLT_OVER] = 1;
}

/** Main thread, after a controlled run outside verify: the fault points that failed unscripted (null: past the log). */
export function faultFailures(): number[] | null {
  if (M[schedBase + SCHED_HEADER.FLT_OVER] !== 0) return null;
  const out: number[] = [], n = Math.min(M[schedBase + SCHED_HEADER.FLT_N], VERIFY_FAULTS);
  for (let i = 0; i < n; i++) if ((M[schedBase + SCHED_HEADER.FLT_FAILED + (i >>> 5)] >>> (i & 31)) & 1) out.push(i);
  return out;
}

/**
 * Decide the fault point of `kind` (FAULT_KINDS index) reached now. `scripted`: the scenario forced this failure
 * (failNext), which stays a failure and is no branch. Returns true when the call must fail.
 */
export function faultChoice(kind: number, scripted: boolean): boolean {
  const n = M[VB + VERIFY.FLT_N];
  M[schedBase + SCHED_HEADER.SITE_HASH] = mixSite(M[schedBase + SCHED_HEADER.SITE_HASH], 0x1000000 | kind);
  const branch = !scripted && ((M[VB + VERIFY.FLT_KINDS] >>> kind) & 1) !== 0 && M[VB + VERIFY.FLT_TAKEN] < M[VB + VERIFY.FLT_MAX];
  if (branch) fp(VB + VERIFY.FLT_TAKEN, VB + VERIFY.FLT_TAKEN + 1); // the fault budget is shared: its users conflict
  const fail = scripted || (branch && n < VERIFY_FAULTS && ((M[VFORCED + (n >>> 5)] >>> (n & 31)) & 1) !== 0);
  if (fail && !scripted) M[VB + VERIFY.FLT_TAKEN]++;
  if (n < VERIFY_FAULTS) {
    M[VFLT + 2 * n] = M[VB + VERIFY.STEP];
    M[VFLT + 2 * n + 1] = kind | (fail ? FLT_FAIL : 0) | (branch ? FLT_BRANCH : 0) | (scripted ? FLT_SCRIPTED : 0);
    M[VB + VERIFY.FLT_N] = n + 1;
  }
  return fail;
}
