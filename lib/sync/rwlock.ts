// Xen's queued rwlock_t (xen/common/rwlock.c, xen/include/xen/rwlock.h): the cnts word holds the writer CPU, the
// writer state (WAITING, LOCKED) and the reader count, at the bit positions of the machine's generation
// (layouts.ts); the embedded spinlock is the FIFO queue for slow paths. A waiting writer diverts new readers.

import { M, cpu } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { POISON } from '../mem/heap.js';
import { record, recordIn, recordRelease, EV } from '../trace/recorder.js';
import { lock_yield } from '../sched/mode.js';
import { lockWakeAll } from '../sched/futex.js';
import { profiling, lockTracing, now, instrWord, IW } from './profile.js';
import { acquired, acquiredIn, acquiredPlain, released, releasedPlain, aboutToAcquire, setWaiting, heldState, HELD_DEPTH } from './held.js';
import { lockHooksWord } from './instrument.js';
import { fp, fpOn } from '../mem/footprint.js';
import { checkLockMemory, waitStep } from './wait.js';
import { spin_lock_init, ticket_acquire, ticket_release, SPINLOCK_WORDS, LOCK_KIND_RW, lockPrologue } from './spinlock.js';

import { _QW_CPUMASK, _QW_WAITING, _QW_LOCKED, _QW_WMASK, _QR_SHIFT, _QR_BIAS, READ_NEEDS_NONNEGATIVE } from './layouts.js';

export { _QW_CPUMASK, _QW_SHIFT, _QW_WAITING, _QW_LOCKED, _QW_WMASK, _QR_SHIFT, _QR_BIAS } from './layouts.js';

/**
 * rwlock_t words: cnts, the queue spinlock, then lab machinery (sleepers on cnts, lock class, the kind word that
 * tells reports this is an rwlock).
 */
export const RW = { cnts: 0, lock: 1, sleepers: 1 + SPINLOCK_WORDS, cls: 2 + SPINLOCK_WORDS, kind: 3 + SPINLOCK_WORDS } as const;
export const RWLOCK_WORDS = 4 + SPINLOCK_WORDS;
const enum F { cnts = 0, lock = 1 }
const F_sleepers = RW.sleepers, F_cls = RW.cls;
/** The imports the lock paths use on every call, bound again as constants (spinlock.ts says why). */
const hooks = lockHooksWord, pro = lockPrologue, iw = instrWord, held = heldState, acq = acquiredIn, rel = released;
const rec = recordIn, recRel = recordRelease, DEPTH = HELD_DEPTH;

export function rwlock_init(l: number, cls = 0): void {
  M[l] = 0; M[l + F_cls] = cls; M[l + F_sleepers] = 0; M[l + RW.kind] = LOCK_KIND_RW; spin_lock_init(l + F.lock, 0);
}

const _is_write_locked_by_me = (c: number): boolean => (c & _QW_WMASK) === _QW_LOCKED && (c & _QW_CPUMASK) === cpu;
const _can_read_lock = (c: number): boolean => (!READ_NEEDS_NONNEGATIVE || c >= 0) && ((c & _QW_WMASK) === 0 || _is_write_locked_by_me(c));

/**
 * Spin/sleep until pred(cnts) holds. Only the holder of the queue spinlock ever waits on cnts, so there is at most
 * one such waiter per rwlock; it is woken by write_unlock and by the reader that brings the reader count to zero.
 */
function waitCnts(l: number, pred: (c: number) => boolean): void {
  for (let spins = 0; ; spins++) {
    const c = Atomics.load(M, l);
    if (pred(c)) return;
    checkLockMemory(l, 'rwlock', 'rwlock');
    waitStep(l, c, spins, true, l + F_sleepers);
  }
}

const noWriter = (c: number): boolean => (c & _QW_WMASK) === 0;
const notWriteLocked = (c: number): boolean => (c & _QW_WMASK) !== _QW_LOCKED;

/** Wake the cnts waiter, if it sleeps (plain read after a locked RMW on cnts; a miss costs it a bounded sleep). */
function wakeCnts(l: number): void {
  if (M[l + F_sleepers] !== 0) lockWakeAll(l);
}

/** A reader left (c = cnts after it did): the queued writer waits for the reader count to reach zero. */
function readerGone(l: number, c: number): void {
  if (c >>> _QR_SHIFT === 0 && M[l + F_sleepers] !== 0) lockWakeAll(l);
}

/*
 * Use-after-free: as in spinlock.ts, the first atomic operation on a freed (poisoned) cnts word returns exactly
 * POISON, whose writer bits (0x2000) no live rwlock ever has; later ones take the slow paths, which check the
 * heap shadow.
 */

/* The fast paths test one flag (instrument.ts lockHooks), as in spinlock.ts; the algorithm is the same on both. */

export function read_lock(l: number): void {
  if (hooks[0] !== 0) { read_lock_instrumented(l); return; }
  const old = Atomics.add(M, l, _QR_BIAS);
  if (_can_read_lock((old + _QR_BIAS) | 0)) { acquiredPlain(l, M[l + F_cls]); return; }
  queue_read_lock_slowpath(l, M[l + F_cls], old);
}

function read_lock_instrumented(l: number): void {
  if (pro[0] !== 0) { lock_yield(0); if (fpOn) fp(l, l + RWLOCK_WORDS); }
  const m = M;
  const cls = m[l + F_cls];
  if (held[DEPTH] !== 0) aboutToAcquire(l, cls, 'read_lock');
  const old = Atomics.add(m, l, _QR_BIAS);
  if (_can_read_lock((old + _QR_BIAS) | 0)) {
    acq(m, l, cls, 0);
    if (iw[IW.tracing] !== 0) rec(m, EV.RLOCK, cls, l);
    return;
  }
  queue_read_lock_slowpath(l, cls, old);
}

function queue_read_lock_slowpath(l: number, cls: number, old: number): void {
  if (old === POISON) checkLockMemory(l, 'read_lock', 'read_lock');
  const waitStart = profiling ? now() : 1;
  readerGone(l, Atomics.sub(M, l, _QR_BIAS) - _QR_BIAS);
  setWaiting(l);
  if (lockTracing) record(EV.WAIT, cls, l);
  checkLockMemory(l, 'read_lock', 'read_lock');
  ticket_acquire(l + F.lock, l);
  setWaiting(l);
  waitCnts(l, noWriter);
  Atomics.add(M, l, _QR_BIAS);
  waitCnts(l, notWriteLocked);
  ticket_release(l + F.lock);
  setWaiting(0);
  acquired(l, cls, waitStart);
  if (lockTracing) record(EV.RLOCK, cls, l);
}

export function read_trylock(l: number): boolean {
  lock_yield(0);
  if (fpOn) fp(l, l + RWLOCK_WORDS);
  const cls = M[l + F_cls];
  let c = Atomics.load(M, l);
  if (c === POISON) checkLockMemory(l, 'read_trylock', 'read_trylock');
  if (_can_read_lock(c)) {
    c = (Atomics.add(M, l, _QR_BIAS) + _QR_BIAS) | 0;
    if (_can_read_lock(c)) { acquired(l, cls, 0); if (lockTracing) record(EV.RLOCK, cls, l); return true; }
    readerGone(l, Atomics.sub(M, l, _QR_BIAS) - _QR_BIAS);
  }
  if (lockTracing) record(EV.TRYFAIL, cls, l);
  return false;
}

export function read_unlock(l: number): void {
  if (hooks[0] !== 0) { read_unlock_instrumented(l); return; }
  if (!releasedPlain(l)) notHolder(l, 'read_unlock', 'releases a read lock it does not hold');
  const old = Atomics.sub(M, l, _QR_BIAS);
  if (old === POISON) checkLockMemory(l, 'read_unlock', 'read_unlock');
  readerGone(l, old - _QR_BIAS);
}

function read_unlock_instrumented(l: number): void {
  if (pro[0] !== 0 && fpOn) fp(l, l + RWLOCK_WORDS);
  const m = M;
  if (!rel(m, l)) notHolder(l, 'read_unlock', 'releases a read lock it does not hold');
  if (iw[IW.tracing] !== 0) recRel(m, EV.RUNLOCK, m[l + F_cls], l);
  const old = Atomics.sub(m, l, _QR_BIAS);
  if (old === POISON) checkLockMemory(l, 'read_unlock', 'read_unlock');
  readerGone(l, old - _QR_BIAS);
}

function notHolder(l: number, where: string, what: string): never {
  checkLockMemory(l, where, where);
  crash('bug', where, `cpu${cpu} ${what}`);
}

export function write_lock(l: number): void {
  if (hooks[0] !== 0) { write_lock_instrumented(l); return; }
  if (Atomics.compareExchange(M, l, 0, _QW_LOCKED | cpu) === 0) { acquiredPlain(l, M[l + F_cls]); return; }
  queue_write_lock_slowpath(l, M[l + F_cls]);
}

function write_lock_instrumented(l: number): void {
  if (pro[0] !== 0) { lock_yield(0); if (fpOn) fp(l, l + RWLOCK_WORDS); }
  const m = M;
  const cls = m[l + F_cls];
  if (held[DEPTH] !== 0) aboutToAcquire(l, cls, 'write_lock');
  if (Atomics.compareExchange(m, l, 0, _QW_LOCKED | cpu) === 0) {
    acq(m, l, cls, 0);
    if (iw[IW.tracing] !== 0) rec(m, EV.LOCK, cls, l);
    return;
  }
  queue_write_lock_slowpath(l, cls);
}

function queue_write_lock_slowpath(l: number, cls: number): void {
  const me = _QW_LOCKED | cpu;
  checkLockMemory(l, 'write_lock', 'write_lock');
  const waitStart = profiling ? now() : 1;
  setWaiting(l);
  if (lockTracing) record(EV.WAIT, cls, l);
  ticket_acquire(l + F.lock, l);
  setWaiting(l);
  if (Atomics.compareExchange(M, l, 0, me) !== 0) {
    waitCnts(l, (c) => noWriter(c) && Atomics.compareExchange(M, l, c, c | _QW_WAITING) === c);
    waitCnts(l, (c) => c === _QW_WAITING && Atomics.compareExchange(M, l, _QW_WAITING, me) === _QW_WAITING);
  }
  ticket_release(l + F.lock);
  setWaiting(0);
  acquired(l, cls, waitStart);
  if (lockTracing) record(EV.LOCK, cls, l);
}

export function write_trylock(l: number): boolean {
  lock_yield(0);
  if (fpOn) fp(l, l + RWLOCK_WORDS);
  const cls = M[l + F_cls];
  const c = Atomics.load(M, l);
  if (c === POISON) checkLockMemory(l, 'write_trylock', 'write_trylock');
  if (c !== 0 || Atomics.compareExchange(M, l, 0, _QW_LOCKED | cpu) !== 0) {
    if (lockTracing) record(EV.TRYFAIL, cls, l);
    return false;
  }
  acquired(l, cls, 0);
  if (lockTracing) record(EV.LOCK, cls, l);
  return true;
}

export function write_unlock(l: number): void {
  if (hooks[0] !== 0) { write_unlock_instrumented(l); return; }
  if (!_is_write_locked_by_me(M[l]) || !releasedPlain(l)) notHolder(l, 'write_unlock', 'is not the writer');
  if (Atomics.and(M, l, ~(_QW_CPUMASK | _QW_WMASK)) === POISON) checkLockMemory(l, 'write_unlock', 'write_unlock');
  wakeCnts(l);
}

function write_unlock_instrumented(l: number): void {
  if (pro[0] !== 0 && fpOn) fp(l, l + RWLOCK_WORDS);
  const m = M;
  // Plain read: only this CPU changes the writer bits of a lock it holds (a freed lock reads POISON: not ours).
  if (!_is_write_locked_by_me(m[l]) || !rel(m, l)) notHolder(l, 'write_unlock', 'is not the writer');
  if (iw[IW.tracing] !== 0) recRel(m, EV.UNLOCK, m[l + F_cls], l);
  if (Atomics.and(m, l, ~(_QW_CPUMASK | _QW_WMASK)) === POISON) checkLockMemory(l, 'write_unlock', 'write_unlock');
  wakeCnts(l);
}

/** True even when a writer is only waiting (cnts != 0), as in Xen. */
export function rw_is_locked(l: number): boolean { if (fpOn) fp(l, l + RWLOCK_WORDS); return Atomics.load(M, l) !== 0; }
export function rw_is_write_locked(l: number): boolean { if (fpOn) fp(l, l + RWLOCK_WORDS); return (Atomics.load(M, l) & _QW_WMASK) === _QW_LOCKED; }
export function rw_readers(l: number): number { if (fpOn) fp(l, l + RWLOCK_WORDS); return Atomics.load(M, l) >>> _QR_SHIFT; }
