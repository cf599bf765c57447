// What this CPU holds and waits for. Kept locally for speed (lockdep, hold times) and published in shared memory
// (region 'held': [waitingOn, depth, held...]) so the watchdog can build the wait-for graph of a stuck trial.

import { M, cpu, region, onAttach, HELD_MAX, HELD_WORDS, CTL } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { profiling, profileAcquired, profileReleased, now } from './profile.js';
import { lockdepAcquire, lockdepOn } from './lockdep.js';

const heldAddr: number[] = [];
const heldCls: number[] = [];
const heldSince: number[] = [];
let heldBase = 0;
onAttach(() => { heldBase = region('held').base + cpu * HELD_WORDS; heldAddr.length = heldCls.length = heldSince.length = 0; M[heldBase] = 0; M[heldBase + 1] = 0; });

export function heldDepth(): number { return heldAddr.length; }
export function holds(addr: number): boolean { return heldAddr.lastIndexOf(addr) >= 0; }
export function heldClasses(): readonly number[] { return heldCls; }

/** Called before blocking on a lock: lockdep validates the order now, before anything can deadlock. */
export function aboutToAcquire(addr: number, cls: number, where: string): void {
  if (lockdepOn) lockdepAcquire(heldCls, heldAddr, cls, addr, where);
}

export function setWaiting(addr: number): void { M[heldBase] = addr; }

export function acquired(addr: number, cls: number, waitStart: number): void {
  const d = heldAddr.length;
  if (d >= HELD_MAX) crash('bug', 'lock_acquire', `more than ${HELD_MAX} locks held`);
  const t = profiling ? now() : 0;
  if (profiling) profileAcquired(cls, waitStart, t);
  heldAddr.push(addr); heldCls.push(cls); heldSince.push(t);
  M[heldBase + 2 + d] = addr;
  M[heldBase + 1] = d + 1;
  M[heldBase] = 0;
  M[CTL.PROGRESS]++;
}

/** Returns false if this CPU does not hold the lock (the caller turns that into a BUG). */
export function released(addr: number): boolean {
  const i = heldAddr.lastIndexOf(addr);
  if (i < 0) return false;
  if (profiling) profileReleased(heldCls[i], now() - heldSince[i]);
  heldAddr.splice(i, 1); heldCls.splice(i, 1); heldSince.splice(i, 1);
  const d = heldAddr.length;
  for (let j = i; j < d; j++) M[heldBase + 2 + j] = heldAddr[j];
  M[heldBase + 1] = d;
  return true;
}

/** Published state of any CPU, for the wait-for graph. */
export function publishedOf(c: number): { waitingOn: number; held: number[] } {
  const b = region('held').base + c * HELD_WORDS;
  const n = Math.min(M[b + 1], HELD_MAX);
  const held: number[] = [];
  for (let j = 0; j < n; j++) held.push(M[b + 2 + j]);
  return { waitingOn: M[b], held };
}
