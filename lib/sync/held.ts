// What this CPU holds and waits for. Kept locally for speed (lockdep, hold times) and published in shared memory
// (region 'held', one 64-byte line per CPU, lib/mem/regions.ts HELD) so the watchdog can build the
// wait-for graph of a stuck trial and see whether anyone makes progress. The local copy is three fixed typed
// arrays and a depth: acquiring and releasing allocate nothing.
//
// Progress is counted per CPU on its own line (the watchdog sums the CPUs): one global counter bumped by every
// acquisition would bounce one cache line between all cores on every lock operation.

import { M, cpu, region, onAttach, HELD_MAX, HELD_WORDS, HELD } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { instrWord, IW, profileAcquired, profileCounted, profileReleased, now, HOLD_SAMPLE } from './profile.js';
import { lockdepAcquire } from './lockdep.js';

/** The imports the instrumented paths use, bound again as constants (see heldState: no cell, no hole check). */
const iw = instrWord, counted = profileCounted;

const heldAddr = new Int32Array(HELD_MAX);
const heldCls = new Int32Array(HELD_MAX);
const heldSince = new Float64Array(HELD_MAX);
/**
 * This thread's depth, the base of its published line and its CPU, in a constant typed array rather than module
 * `let`s: V8 reads a module binding through a cell with a hole check on every use, and the raw lock pair is a
 * handful of such reads around two atomic operations (bench locks: 31.5 -> ~26 ns with this and spinlock.ts's
 * literals). `cpuWord` is read by spinlock.ts's fast paths for the same reason.
 */
const enum S { depth = 0, base = 1, cpu = 2 }
export const heldState = new Int32Array(4);
const st = heldState;
onAttach(() => {
  const b = region('held').base + cpu * HELD_WORDS;
  st[S.base] = b; st[S.depth] = 0; st[S.cpu] = cpu;
  M[b + HELD.WAITING] = 0; M[b + HELD.DEPTH] = 0; M[b + HELD.PROGRESS] = 0;
});
/** regions.ts HELD's offsets and HELD_MAX as literals for the same reason (checked equal at load). */
const enum H { WAITING = 0, DEPTH = 1, PROGRESS = 2, LOCKS = 3, MAX = 8 }
if (H.WAITING !== HELD.WAITING || H.DEPTH !== HELD.DEPTH || H.PROGRESS !== HELD.PROGRESS || H.LOCKS !== HELD.LOCKS || H.MAX !== HELD_MAX) {
  throw new Error('held.ts: HELD offsets out of date');
}
/** Index of this thread's CPU in heldState (spinlock.ts reads it there). */
export const HELD_CPU = S.cpu;
/** Index of this thread's lock depth in heldState (the lock paths skip lockdep at depth 0). */
export const HELD_DEPTH = S.depth;

export function heldDepth(): number { return st[S.depth]; }
export function holds(addr: number): boolean {
  for (let i = st[S.depth] - 1; i >= 0; i--) if (heldAddr[i] === addr) return true;
  return false;
}
export function heldClasses(): readonly number[] { return Array.from(heldCls.subarray(0, st[S.depth])); }

/** Called before blocking on a lock: lockdep validates the order now, before anything can deadlock. */
export function aboutToAcquire(addr: number, cls: number, where: string): void {
  const d = st[S.depth];
  if (d > 0 && iw[IW.lockdep] !== 0) lockdepAcquire(heldCls, heldAddr, d, cls, addr, where);
}

export function setWaiting(addr: number): void { M[st[S.base] + HELD.WAITING] = addr; }

/**
 * Bookkeeping of a lock just taken, with no instrumentation (the lock fast paths call this when profiling, lockdep
 * and tracing are all off). The slow paths have already cleared `waitingOn`.
 */
export function acquiredPlain(addr: number, cls: number): void {
  const d = st[S.depth];
  if (d >= H.MAX) tooDeep();
  heldAddr[d] = addr; heldCls[d] = cls;
  st[S.depth] = d + 1;
  const m = M, b = st[S.base];
  m[b + H.LOCKS + d] = addr;
  m[b + H.DEPTH] = d + 1;
  m[b + H.PROGRESS]++;
}

/** Acquisitions until this thread times a hold again (profile.ts HOLD_SAMPLE), in heldState like the depth. */
const COUNTDOWN = 3;
st[COUNTDOWN] = 1;

/**
 * acquiredPlain plus lock profiling: the wait since `waitStart` (ns, 0 when the lock was free), and every
 * HOLD_SAMPLE-th acquisition the moment the hold starts (heldSince; 0 = this hold is not timed). The common case
 * (free lock, hold not sampled) is one counter and no clock; the clock is read off this path (acquiredTimed). One
 * function with acquiredPlain's stores rather than a call to it: the lock paths inline all of it, and TurboFan's
 * inlining budget (920 bytecode bytes per optimised function) is what the instrumented pair ran out of.
 */
export function acquired(addr: number, cls: number, waitStart: number): void { acquiredIn(M, addr, cls, waitStart); }

/** acquired() on the memory the caller already holds (recorder.ts recordIn says why). */
export function acquiredIn(m: Int32Array, addr: number, cls: number, waitStart: number): void {
  const d = st[S.depth];
  if (iw[IW.profiling] !== 0) {
    const c = st[COUNTDOWN];
    if (waitStart > 0 || c === 1) acquiredTimed(cls, waitStart, d);
    else { st[COUNTDOWN] = c - 1; counted(cls); if (d < H.MAX) heldSince[d] = 0; }
  }
  if (d >= H.MAX) tooDeep();
  heldAddr[d] = addr; heldCls[d] = cls;
  st[S.depth] = d + 1;
  const b = st[S.base];
  m[b + H.LOCKS + d] = addr;
  m[b + H.DEPTH] = d + 1;
  m[b + H.PROGRESS]++;
}

function acquiredTimed(cls: number, waitStart: number, d: number): void {
  let t = waitStart > 0 ? now() : 0;
  profileAcquired(cls, waitStart > 0 ? t - waitStart : -1);
  const c = st[COUNTDOWN] - 1;
  if (c === 0) { st[COUNTDOWN] = HOLD_SAMPLE; if (t === 0) t = now(); } else { st[COUNTDOWN] = c; t = 0; }
  if (d < H.MAX) heldSince[d] = t;
}

function tooDeep(): never { crash('bug', 'lock_acquire', `more than ${HELD_MAX} locks held`); }

/** Returns false if this CPU does not hold the lock (the caller turns that into a BUG). No instrumentation. */
export function releasedPlain(addr: number): boolean {
  const d = st[S.depth] - 1;
  let i = d;
  while (i >= 0 && heldAddr[i] !== addr) i--;
  if (i < 0) return false;
  st[S.depth] = d;
  if (i < d) unlink(i, d);
  M[st[S.base] + H.DEPTH] = d;
  return true;
}

/** releasedPlain plus lock profiling (the hold time, when this hold is timed); `m` is M (recorder.ts recordIn says why). */
export function released(m: Int32Array, addr: number): boolean {
  const d = st[S.depth] - 1;
  let i = d;
  while (i >= 0 && heldAddr[i] !== addr) i--;
  if (i < 0) return false;
  if (iw[IW.profiling] !== 0 && heldSince[i] > 0) profileReleased(heldCls[i], now() - heldSince[i], HOLD_SAMPLE);
  st[S.depth] = d;
  if (i < d) unlink(i, d);
  m[st[S.base] + H.DEPTH] = d;
  return true;
}

/** Released out of order: close the gap at i. */
function unlink(i: number, d: number): void {
  for (let j = i; j < d; j++) {
    heldAddr[j] = heldAddr[j + 1]; heldCls[j] = heldCls[j + 1]; heldSince[j] = heldSince[j + 1];
    M[st[S.base] + HELD.LOCKS + j] = heldAddr[j];
  }
}

/** Published state of any CPU, for the wait-for graph. */
export function publishedOf(c: number): { waitingOn: number; held: number[] } {
  const b = region('held').base + c * HELD_WORDS;
  const n = Math.min(M[b + HELD.DEPTH], HELD_MAX);
  const held: number[] = [];
  for (let j = 0; j < n; j++) held.push(M[b + HELD.LOCKS + j]);
  return { waitingOn: M[b + HELD.WAITING], held };
}

/** Lock acquisitions of every CPU so far (the watchdog's progress measure): a sum of per-CPU counters. */
export function progressSum(cpus: number): number {
  const base = region('held').base;
  let s = 0;
  for (let c = 0; c < cpus; c++) s = (s + Atomics.load(M, base + c * HELD_WORDS + HELD.PROGRESS)) | 0;
  return s;
}
