// Xen's spinlock_t (xen/common/spinlock.c at late 2021): a ticket lock in one 32-bit word, head in bits 0-15 and
// tail in bits 16-31 (little-endian halves), taking a ticket is a fetch-and-add on the tail, release is a 16-bit
// add on the head. The recursive variant used by pcidevs_lock keeps recurse_cpu:12 / recurse_cnt:4 as Xen does.

import { M, H16, cpu } from '../mem/machine.js';
import { crash, ASSERT } from '../mem/crash.js';
import { record, EV } from '../trace/recorder.js';
import { lock_yield } from '../sched/mode.js';
import { profiling, now } from './profile.js';
import { acquired, released, aboutToAcquire, setWaiting } from './held.js';
import { checkLockMemory, waitStep, wake } from './wait.js';

/** spinlock_t words. `sleepers` is lab machinery (see wait.ts); the rest mirrors Xen's struct. */
export const SPIN = { tickets: 0, recurse: 1, debug: 2, cls: 3, sleepers: 4 } as const;
export const SPINLOCK_WORDS = 5;
export const SPINLOCK_NO_CPU = 0xfff;
const RECURSE_CNT_SHIFT = 12, RECURSE_MAX = 15;

export function spin_lock_init(l: number, cls = 0): void {
  M[l] = 0; M[l + SPIN.recurse] = SPINLOCK_NO_CPU; M[l + SPIN.debug] = SPINLOCK_NO_CPU; M[l + SPIN.cls] = cls; M[l + SPIN.sleepers] = 0;
}

/** Take a ticket and wait for it to come up, with no lockdep/profiling (the rwlock's inner queue uses this). */
export function ticket_acquire(l: number, waitingOn = l): boolean {
  const ticket = Atomics.add(H16, 2 * l + 1, 1);          // fetch_and_add(&tail, 1)
  if (Atomics.load(H16, 2 * l) === ticket) return false;  // uncontended
  setWaiting(waitingOn);
  record(EV.WAIT, M[l + SPIN.cls], l);
  for (let spins = 0; ; spins++) {
    const v = Atomics.load(M, l);
    if ((v & 0xffff) === ticket) break;
    checkLockMemory(l, 'spin_lock', 'spin_lock');
    waitStep(l, v, spins, ((ticket - v) & 0xffff) <= 1, l + SPIN.sleepers);
  }
  setWaiting(0);
  return true;
}

export function ticket_release(l: number): void {
  Atomics.add(H16, 2 * l, 1);                              // head++ (16-bit, wraps like Xen's add_sized)
  wake(l, l + SPIN.sleepers);
}

export function spin_lock(l: number): void {
  const cls = M[l + SPIN.cls];
  lock_yield(0);
  checkLockMemory(l, 'spin_lock', 'spin_lock');
  aboutToAcquire(l, cls, 'spin_lock');
  const t0 = profiling ? now() : 0;
  const contended = ticket_acquire(l);
  if (contended) checkLockMemory(l, 'spin_lock', 'spin_lock');
  got_lock(l, cls, contended ? t0 : 0);
}

function got_lock(l: number, cls: number, waitStart: number): void {
  M[l + SPIN.debug] = cpu;
  acquired(l, cls, waitStart);
  record(EV.LOCK, cls, l);
}

export function spin_unlock(l: number): void {
  const cls = M[l + SPIN.cls];
  checkLockMemory(l, 'spin_unlock', 'spin_unlock');
  if (M[l + SPIN.debug] !== cpu || !released(l)) crash('bug', 'spin_unlock', `cpu${cpu} releases a lock it does not hold`);
  M[l + SPIN.debug] = SPINLOCK_NO_CPU;
  record(EV.UNLOCK, cls, l);
  ticket_release(l);
}

export function spin_trylock(l: number): boolean {
  const cls = M[l + SPIN.cls];
  lock_yield(0);
  checkLockMemory(l, 'spin_trylock', 'spin_trylock');
  const old = Atomics.load(M, l);
  if ((old & 0xffff) !== (old >>> 16) || Atomics.compareExchange(M, l, old, (old + 0x10000) | 0) !== old) {
    record(EV.TRYFAIL, cls, l);
    return false;
  }
  got_lock(l, cls, 0);
  return true;
}

/** L21 semantics: a recursive lock answers "held by this CPU"; a plain one answers "held by anyone". */
export function spin_is_locked(l: number): boolean {
  const rc = M[l + SPIN.recurse] & 0xfff;
  if (rc === SPINLOCK_NO_CPU) { const v = Atomics.load(M, l); return (v & 0xffff) !== (v >>> 16); }
  return rc === cpu;
}

/** Wait until whoever holds the lock now has released it once. */
export function spin_barrier(l: number): void {
  lock_yield(0);
  const v = Atomics.load(M, l);
  if ((v & 0xffff) === (v >>> 16)) return;
  const head = v & 0xffff;
  for (let spins = 0; ; spins++) {
    const w = Atomics.load(M, l);
    if ((w & 0xffff) !== head) return;
    checkLockMemory(l, 'spin_barrier', 'spin_barrier');
    waitStep(l, w, spins, true, l + SPIN.sleepers);
  }
}

export function spin_lock_recursive(l: number): void {
  if ((M[l + SPIN.recurse] & 0xfff) !== cpu) {
    spin_lock(l);
    M[l + SPIN.recurse] = (M[l + SPIN.recurse] & ~0xfff) | cpu;
  }
  const cnt = M[l + SPIN.recurse] >>> RECURSE_CNT_SHIFT;
  ASSERT(cnt < RECURSE_MAX, 'spin_lock_recursive', 'recurse_cnt < SPINLOCK_MAX_RECURSE');
  M[l + SPIN.recurse] += 1 << RECURSE_CNT_SHIFT;
}

export function spin_unlock_recursive(l: number): void {
  const r = M[l + SPIN.recurse];
  if ((r & 0xfff) !== cpu || (r >>> RECURSE_CNT_SHIFT) === 0) crash('bug', 'spin_unlock_recursive', `cpu${cpu} does not hold the lock`);
  const cnt = (r >>> RECURSE_CNT_SHIFT) - 1;
  if (cnt === 0) {
    M[l + SPIN.recurse] = SPINLOCK_NO_CPU;
    spin_unlock(l);
  } else {
    M[l + SPIN.recurse] = (cnt << RECURSE_CNT_SHIFT) | cpu;
  }
}

export function spin_recurse_count(l: number): number { return M[l + SPIN.recurse] >>> RECURSE_CNT_SHIFT; }
