// What this CPU holds and waits for. Kept locally for speed (lockdep, hold times) and published in shared memory
// (region 'held': [waitingOn, depth, held...]) so the watchdog can build the wait-for graph of a stuck trial.
// The local copy is three fixed typed arrays and a depth: acquiring and releasing allocate nothing.

import { M, cpu, region, onAttach, HELD_MAX, HELD_WORDS, CTL } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { profiling, profileAcquired, profileReleased, now } from './profile.js';
import { lockdepAcquire, lockdepOn } from './lockdep.js';

const heldAddr = new Int32Array(HELD_MAX);
const heldCls = new Int32Array(HELD_MAX);
const heldSince = new Float64Array(HELD_MAX);
let depth = 0;
const PROGRESS = CTL.PROGRESS;
let heldBase = 0;
onAttach(() => { heldBase = region('held').base + cpu * HELD_WORDS; depth = 0; M[heldBase] = 0; M[heldBase + 1] = 0; });

export function heldDepth(): number { return depth; }
export function holds(addr: number): boolean {
  for (let i = depth - 1; i >= 0; i--) if (heldAddr[i] === addr) return true;
  return false;
}
export function heldClasses(): readonly number[] { return Array.from(heldCls.subarray(0, depth)); }

/** Called before blocking on a lock: lockdep validates the order now, before anything can deadlock. */
export function aboutToAcquire(addr: number, cls: number, where: string): void {
  if (lockdepOn && depth > 0) lockdepAcquire(heldCls, heldAddr, depth, cls, addr, where);
}

export function setWaiting(addr: number): void { M[heldBase] = addr; }

/** Bookkeeping of a lock just taken (the slow paths have already cleared `waitingOn`). */
export function acquired(addr: number, cls: number, waitStart: number): void {
  const d = depth;
  if (d >= HELD_MAX) tooDeep();
  if (profiling) { const t = now(); profileAcquired(cls, waitStart, t); heldSince[d] = t; }
  heldAddr[d] = addr; heldCls[d] = cls;
  depth = d + 1;
  const m = M, b = heldBase;
  m[b + 2 + d] = addr;
  m[b + 1] = d + 1;
  m[PROGRESS]++;
}

function tooDeep(): never { crash('bug', 'lock_acquire', `more than ${HELD_MAX} locks held`); }

/** Returns false if this CPU does not hold the lock (the caller turns that into a BUG). */
export function released(addr: number): boolean {
  let i = depth - 1;
  while (i >= 0 && heldAddr[i] !== addr) i--;
  if (i < 0) return false;
  if (profiling) profileReleased(heldCls[i], now() - heldSince[i]);
  const d = --depth;
  if (i < d) unlink(i, d);
  M[heldBase + 1] = d;
  return true;
}

/** Released out of order: close the gap at i. */
function unlink(i: number, d: number): void {
  for (let j = i; j < d; j++) {
    heldAddr[j] = heldAddr[j + 1]; heldCls[j] = heldCls[j + 1]; heldSince[j] = heldSince[j + 1];
    M[heldBase + 2 + j] = heldAddr[j];
  }
}

/** Published state of any CPU, for the wait-for graph. */
export function publishedOf(c: number): { waitingOn: number; held: number[] } {
  const b = region('held').base + c * HELD_WORDS;
  const n = Math.min(M[b + 1], HELD_MAX);
  const held: number[] = [];
  for (let j = 0; j < n; j++) held.push(M[b + 2 + j]);
  return { waitingOn: M[b], held };
}
