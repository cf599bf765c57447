// Xen's queued rwlock_t (xen/common/rwlock.c, xen/include/xen/rwlock.h at late 2021): the cnts word holds the
// writer CPU (bits 0-11), the writer state (WAITING 0x1000, LOCKED 0x3000) and the reader count (from bit 14);
// the embedded spinlock is the FIFO queue for slow paths. A waiting writer diverts new readers into that queue.

import { M, cpu } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { record, EV } from '../trace/recorder.js';
import { lock_yield } from '../sched/mode.js';
import { profiling, now } from './profile.js';
import { acquired, released, aboutToAcquire, setWaiting } from './held.js';
import { checkLockMemory, waitStep, wake } from './wait.js';
import { spin_lock_init, ticket_acquire, ticket_release, SPINLOCK_WORDS } from './spinlock.js';

export const _QW_CPUMASK = 0xfff;
export const _QW_SHIFT = 12;
export const _QW_WAITING = 0x1000;
export const _QW_LOCKED = 0x3000;
export const _QW_WMASK = 0x3000;
export const _QR_SHIFT = 14;
export const _QR_BIAS = 1 << _QR_SHIFT;

/** rwlock_t words: cnts, the queue spinlock, then lab machinery (sleepers on cnts, lock class). */
export const RW = { cnts: 0, lock: 1, sleepers: 1 + SPINLOCK_WORDS, cls: 2 + SPINLOCK_WORDS } as const;
export const RWLOCK_WORDS = 3 + SPINLOCK_WORDS;

export function rwlock_init(l: number, cls = 0): void {
  M[l] = 0; spin_lock_init(l + RW.lock, 0); M[l + RW.sleepers] = 0; M[l + RW.cls] = cls;
}

const _is_write_locked_by_me = (c: number): boolean => (c & _QW_WMASK) === _QW_LOCKED && (c & _QW_CPUMASK) === cpu;
const _can_read_lock = (c: number): boolean => (c & _QW_WMASK) === 0 || _is_write_locked_by_me(c);

/** Spin/sleep until pred(cnts) holds. */
function waitCnts(l: number, pred: (c: number) => boolean): void {
  for (let spins = 0; ; spins++) {
    const c = Atomics.load(M, l);
    if (pred(c)) return;
    checkLockMemory(l, 'rwlock', 'rwlock');
    waitStep(l, c, spins, true, l + RW.sleepers);
  }
}

const noWriter = (c: number): boolean => (c & _QW_WMASK) === 0;
const notWriteLocked = (c: number): boolean => (c & _QW_WMASK) !== _QW_LOCKED;

export function read_lock(l: number): void {
  const cls = M[l + RW.cls];
  lock_yield(0);
  checkLockMemory(l, 'read_lock', 'read_lock');
  aboutToAcquire(l, cls, 'read_lock');
  const t0 = profiling ? now() : 0;
  const c = Atomics.add(M, l, _QR_BIAS) + _QR_BIAS;
  let contended = false;
  if (!_can_read_lock(c)) {
    // queue_read_lock_slowpath
    contended = true;
    Atomics.sub(M, l, _QR_BIAS);
    setWaiting(l);
    record(EV.WAIT, cls, l);
    ticket_acquire(l + RW.lock, l);
    setWaiting(l);
    waitCnts(l, noWriter);
    Atomics.add(M, l, _QR_BIAS);
    waitCnts(l, notWriteLocked);
    ticket_release(l + RW.lock);
    setWaiting(0);
  }
  acquired(l, cls, contended ? t0 : 0);
  record(EV.RLOCK, cls, l);
}

export function read_trylock(l: number): boolean {
  const cls = M[l + RW.cls];
  lock_yield(0);
  checkLockMemory(l, 'read_trylock', 'read_trylock');
  let c = Atomics.load(M, l);
  if (_can_read_lock(c)) {
    c = Atomics.add(M, l, _QR_BIAS) + _QR_BIAS;
    if (_can_read_lock(c)) { acquired(l, cls, 0); record(EV.RLOCK, cls, l); return true; }
    Atomics.sub(M, l, _QR_BIAS);
    wake(l, l + RW.sleepers);
  }
  record(EV.TRYFAIL, cls, l);
  return false;
}

export function read_unlock(l: number): void {
  const cls = M[l + RW.cls];
  checkLockMemory(l, 'read_unlock', 'read_unlock');
  if (!released(l)) crash('bug', 'read_unlock', `cpu${cpu} releases a read lock it does not hold`);
  record(EV.RUNLOCK, cls, l);
  Atomics.sub(M, l, _QR_BIAS);
  wake(l, l + RW.sleepers);
}

export function write_lock(l: number): void {
  const cls = M[l + RW.cls];
  const me = _QW_LOCKED | cpu;
  lock_yield(0);
  checkLockMemory(l, 'write_lock', 'write_lock');
  aboutToAcquire(l, cls, 'write_lock');
  const t0 = profiling ? now() : 0;
  let contended = false;
  if (Atomics.compareExchange(M, l, 0, me) !== 0) {
    // queue_write_lock_slowpath
    contended = true;
    setWaiting(l);
    record(EV.WAIT, cls, l);
    ticket_acquire(l + RW.lock, l);
    setWaiting(l);
    if (Atomics.compareExchange(M, l, 0, me) !== 0) {
      waitCnts(l, (c) => noWriter(c) && Atomics.compareExchange(M, l, c, c | _QW_WAITING) === c);
      waitCnts(l, (c) => c === _QW_WAITING && Atomics.compareExchange(M, l, _QW_WAITING, me) === _QW_WAITING);
    }
    ticket_release(l + RW.lock);
    setWaiting(0);
  }
  acquired(l, cls, contended ? t0 : 0);
  record(EV.LOCK, cls, l);
}

export function write_trylock(l: number): boolean {
  const cls = M[l + RW.cls];
  lock_yield(0);
  checkLockMemory(l, 'write_trylock', 'write_trylock');
  if (Atomics.load(M, l) !== 0 || Atomics.compareExchange(M, l, 0, _QW_LOCKED | cpu) !== 0) {
    record(EV.TRYFAIL, cls, l);
    return false;
  }
  acquired(l, cls, 0);
  record(EV.LOCK, cls, l);
  return true;
}

export function write_unlock(l: number): void {
  const cls = M[l + RW.cls];
  checkLockMemory(l, 'write_unlock', 'write_unlock');
  if (!_is_write_locked_by_me(Atomics.load(M, l)) || !released(l)) crash('bug', 'write_unlock', `cpu${cpu} is not the writer`);
  record(EV.UNLOCK, cls, l);
  Atomics.and(M, l, ~(_QW_CPUMASK | _QW_WMASK));
  wake(l, l + RW.sleepers);
}

/** True even when a writer is only waiting (cnts != 0), as in Xen. */
export function rw_is_locked(l: number): boolean { return Atomics.load(M, l) !== 0; }
export function rw_is_write_locked(l: number): boolean { return (Atomics.load(M, l) & _QW_WMASK) === _QW_LOCKED; }
export function rw_readers(l: number): number { return Atomics.load(M, l) >>> _QR_SHIFT; }
