// Xen's spinlock_t (xen/common/spinlock.c): a ticket lock in one 32-bit word, head in bits 0-15 and tail in bits
// 16-31 (little-endian halves), taking a ticket is a fetch-and-add on the tail, release is a 16-bit add on the
// head. The recursive variant used by pcidevs_lock keeps recurse_cpu / recurse_cnt with the widths of the
// machine's generation (layouts.ts: 12/4 bits at late 2021, rspinlock_t's 16/8 at HEAD).

import { M, H16, cpu, CTL } from '../mem/machine.js';
import { crash, ASSERT } from '../mem/crash.js';
import { record, recordIn, recordRelease, EV } from '../trace/recorder.js';
import { lock_yield, controlled, SCHED, MODE_FREE } from '../sched/mode.js';
import { lockWakeAll } from '../sched/futex.js';
import { profiling, lockTracing, now, instrWord, IW } from './profile.js';
import { acquiredIn, acquiredPlain, released, releasedPlain, aboutToAcquire, setWaiting, heldState, HELD_CPU, HELD_DEPTH } from './held.js';
import { lockHooksWord } from './instrument.js';
import { checkLockMemory, waitStep, ticketWait, ticketWake, admitWait, TICKET_WAIT_WORDS, SPIN_NS } from './wait.js';
import { POISON } from '../mem/heap.js';
import { fp, fpOn } from '../mem/footprint.js';
import { SPINLOCK_NO_CPU, RECURSE_CPU_MASK, RECURSE_CNT_SHIFT } from './layouts.js';
import { onAttach } from '../mem/machine.js';

/**
 * spinlock_t words. `tickets`, `recurse` and `debug` mirror Xen's struct; `cls` (lock class), `sleepers` (word
 * waiters of spin_barrier) and the wait block (`wait`: handoff word + one slot per ticket in flight, see wait.ts)
 * are lab machinery.
 */
export const SPIN = { tickets: 0, recurse: 1, debug: 2, cls: 3, sleepers: 4, wait: 5, kind: 5 + TICKET_WAIT_WORDS } as const;
/** The same offsets, inlined by tsc (smaller bytecode on the hot paths keeps them within V8's inlining budget). */
const enum F { tickets = 0, recurse = 1, debug = 2, cls = 3, sleepers = 4, wait = 5 }
/**
 * SPINLOCK_TICKET_INC and heap.ts POISON as literals for the raw fast paths: a module constant is still read through
 * a cell with a hole check in V8's optimised code (checked equal below).
 */
const enum K { TICKET_INC = 0x10000, POISON = 0x6b6b6b6b, HELD_CPU = 2, DEPTH = 0, EV_LOCK = 2, EV_UNLOCK = 3 }
/**
 * The imports the raw fast paths use, bound again as this module's constants: TurboFan reads an imported binding
 * through its cell with a hole check (and, for a function it inlines, a check of the target) at every use, but
 * embeds a module's own initialised const as a constant.
 */
const hooks = lockHooksWord, held = heldState, acqPlain = acquiredPlain, relPlain = releasedPlain;
/** The same for the instrumented paths, which every stress run takes. */
const iw = instrWord, acq = acquiredIn, rel = released, rec = recordIn, recRel = recordRelease;
export const SPINLOCK_WORDS = 6 + TICKET_WAIT_WORDS;
/** What a lock is, recorded at init in its `kind` word so reports never guess it from other words' values. */
export const LOCK_KIND_SPIN = 0x5350494e, LOCK_KIND_RW = 0x52574c4b; // 'SPIN', 'RWLK'
export { SPINLOCK_NO_CPU } from './layouts.js';
/** Adds one to the tail half of head_tail (Xen's SPINLOCK_TICKET_INC). */
export const SPINLOCK_TICKET_INC = 0x10000;
/** SPINLOCK_NO_CPU of the attached machine's layout, for the raw unlock (registered after layouts.ts's hook). */
const noCpu = new Int32Array(1);
/**
 * 1 when a lock operation has anything to do before it touches the lock: a yield point that yields (controlled or
 * jitter mode: mode.ts lock_yield) or a footprint to record (verify: footprint.ts fpOn). Both are fixed at attach
 * (this hook runs after mode.ts's and footprint.ts's): free-running stress and bench runs test one word.
 */
export const lockPrologue = new Int32Array(1);
onAttach(() => {
  noCpu[0] = SPINLOCK_NO_CPU;
  lockPrologue[0] = M[CTL.SCHED + SCHED.MODE] !== MODE_FREE || fpOn ? 1 : 0;
});
const pro = lockPrologue;
if (K.POISON !== POISON || K.TICKET_INC !== SPINLOCK_TICKET_INC || (K.HELD_CPU as number) !== HELD_CPU || (K.DEPTH as number) !== HELD_DEPTH ||
  (K.EV_LOCK as number) !== EV.LOCK || (K.EV_UNLOCK as number) !== EV.UNLOCK) throw new Error('spinlock.ts: literals out of date');
/** ticket_release may move head with a plain store (see there): x86's store order, and next-in-line waiters spin. */
const plainRelease = (process.arch === 'x64' || process.arch === 'ia32') && SPIN_NS >= 1000;
/** SPINLOCK_MAX_RECURSE, the same in both generations. */
const RECURSE_MAX = 15;

export function spin_lock_init(l: number, cls = 0): void {
  M[l] = 0; M[l + F.recurse] = SPINLOCK_NO_CPU; M[l + F.debug] = SPINLOCK_NO_CPU; M[l + F.cls] = cls; M[l + F.sleepers] = 0;
  M.fill(0, l + F.wait, l + F.wait + TICKET_WAIT_WORDS);
  M[l + SPIN.kind] = LOCK_KIND_SPIN;
}

/** Take a ticket and wait for it to come up, with no lockdep/profiling (the rwlock's inner queue uses this). */
export function ticket_acquire(l: number, waitingOn = l): boolean {
  const old = Atomics.add(M, l, SPINLOCK_TICKET_INC);     // fetch_and_add(&head_tail, SPINLOCK_TICKET_INC)
  const ticket = old >>> 16;
  if ((old & 0xffff) === ticket) return false;             // uncontended
  ticket_wait(l, ticket, waitingOn);
  return true;
}

/** The slow path: published as waiting (wait-for graph), recorded, then proportional backoff (wait.ts). */
function ticket_wait(l: number, ticket: number, waitingOn: number): void {
  setWaiting(waitingOn);
  if (lockTracing) record(EV.WAIT, M[l + F.cls], l);
  ticketWait(l, l + F.wait, ticket, 'spin_lock');
  setWaiting(0);
}

/**
 * Xen's `add_sized(&head, 1)`: on x86 a plain (unlocked) add of the head half, which only the holder writes. The
 * holder reads the word first: with nobody queued (tail = head + 1) it stores the new head with a plain 16-bit
 * store, as Xen does, and reads the word again; anyone who queued meanwhile (tail moved) is woken below. With
 * waiters it falls back to the 16-bit atomic add and wakes the one thread whose turn it now is (wait.ts).
 *
 * Why a plain store cannot lose a wakeup: a waiter that queued after our first read has the next ticket, so it spins
 * for SPIN_NS before it parks, and our store (x86 keeps stores in order, after the critical section's) is visible
 * long before; if we were preempted between the read and the store, the second read sees its ticket. Where stores
 * are not ordered like x86's, or nobody spins (VPCI_SPIN_NS < 1 µs), the store is Atomics.store (seq-cst) instead.
 * A JS Atomics call costs ~8 ns here (V8 does not inline them), the plain path a few loads and a store: this is
 * most of the gap between the raw pair and the atomics floor. bench/ref/ticket.c keeps its compare-exchange: in C the
 * store and second read cost more than the CAS (~10 against ~6 ns a pair here), and the reference stays the best C.
 * The wait policy, which decides the contended figures, is the same on both sides.
 */
export function ticket_release(l: number): void {
  const m = M;
  const v = m[l];
  const head = v & 0xffff;                                 // stable: only the holder writes head
  const next = (head + 1) & 0xffff;
  if ((v >>> 16) === next) {
    if (plainRelease) H16[2 * l] = next; else Atomics.store(H16, 2 * l, next);
    // The tail half alone: a 32-bit read of the word just stored to in part waits for the store to retire.
    if (H16[2 * l + 1] !== next) ticketQueued(l, next);
  } else {
    // Freed under its holder (poisoned between the holder check and here): the unlock writes freed memory.
    checkLockMemory(l, 'spin_unlock', 'spin_unlock');
    Atomics.add(H16, 2 * l, 1);                            // 16-bit: wraps at 0xffff, never carries into tail
    ticketWake(l + F.wait, next);                          // someone is queued behind us
  }
  // spin_barrier waiters. A missed wakeup would only cost the barrier waiter its bounded sleep.
  if (m[l + F.sleepers] !== 0) lockWakeAll(l);
}

/** Someone took a ticket between the release's read and its store (or the word was freed under us). */
function ticketQueued(l: number, next: number): void {
  checkLockMemory(l, 'spin_unlock', 'spin_unlock');
  ticketWake(l + F.wait, next);
}

/*
 * Use-after-free of lock memory is caught without a shadow lookup on the fast paths: xfree poisons a freed block,
 * so the first atomic operation on a freed lock word returns exactly POISON (and any later one finds the lock
 * contended or not owned, where the slow paths look at the shadow). Only then is the heap shadow consulted.
 *
 * One flag (instrument.ts lockHooks) separates the bare path from the instrumented one: with profiling, lockdep,
 * lock tracing and scheduling hooks all off, an uncontended pair is the two atomic operations, the debug word and
 * the published held-lock slot (the wait-for graph and the "unlock of a lock not held" BUG need it).
 */
export function spin_lock(l: number): void {
  if (hooks[0] !== 0) { spin_lock_instrumented(l); return; }
  const m = M;
  const v = m[l];                                          // wait without a ticket behind a queue (wait.ts admitWait)
  if (((v >>> 16) - v & 0xffff) >= 2) admitWait(l);
  const old = Atomics.add(m, l, K.TICKET_INC);             // fetch_and_add(&head_tail, SPINLOCK_TICKET_INC)
  const ticket = old >>> 16;
  if ((old & 0xffff) === ticket && old !== K.POISON) {
    m[l + F.debug] = held[K.HELD_CPU];
    acqPlain(l, m[l + F.cls]);
    return;
  }
  spin_lock_slow(l, m[l + F.cls], ticket, (old & 0xffff) !== ticket);
}

function spin_lock_instrumented(l: number): void {
  if (pro[0] !== 0) { lock_yield(0); if (fpOn) fp(l, l + SPINLOCK_WORDS); }
  const m = M;
  const cls = m[l + F.cls];
  if (held[K.DEPTH] !== 0) aboutToAcquire(l, cls, 'spin_lock');
  const v = m[l];                                          // (controlled: the scheduler alone decides who waits)
  if (((v >>> 16) - v & 0xffff) >= 2 && !controlled) admitWait(l);
  const old = Atomics.add(m, l, K.TICKET_INC);
  const ticket = old >>> 16;
  if ((old & 0xffff) === ticket && old !== K.POISON) {
    got_lock(m, l, cls, 0);
    return;
  }
  spin_lock_slow(l, cls, ticket, (old & 0xffff) !== ticket);
}

function spin_lock_slow(l: number, cls: number, ticket: number, contended: boolean): void {
  checkLockMemory(l, 'spin_lock', 'spin_lock');
  let waitStart = 0;
  if (contended) {                                         // (else: a live lock word that happened to read POISON)
    // Like Xen's LOCK_PROFILE_BLOCK, the wait is stamped when the CPU first finds it must wait.
    waitStart = profiling ? now() : 1;
    ticket_wait(l, ticket, l);
    checkLockMemory(l, 'spin_lock', 'spin_lock');
  }
  got_lock(M, l, cls, waitStart);
}

/** `m` is M, as the caller already holds it (recorder.ts recordIn says why). */
function got_lock(m: Int32Array, l: number, cls: number, waitStart: number): void {
  m[l + F.debug] = held[K.HELD_CPU];
  acq(m, l, cls, waitStart);
  if (iw[IW.tracing] !== 0) rec(m, K.EV_LOCK, cls, l);
}

export function spin_unlock(l: number): void {
  if (hooks[0] !== 0) { spin_unlock_instrumented(l); return; }
  const m = M;
  if (m[l + F.debug] !== held[K.HELD_CPU] || !relPlain(l)) notHolder(l, 'spin_unlock');
  m[l + F.debug] = noCpu[0];
  ticket_release(l);
}

function spin_unlock_instrumented(l: number): void {
  if (pro[0] !== 0 && fpOn) fp(l, l + SPINLOCK_WORDS);
  const m = M;
  if (m[l + F.debug] !== held[K.HELD_CPU] || !rel(m, l)) notHolder(l, 'spin_unlock');
  m[l + F.debug] = noCpu[0];
  if (iw[IW.tracing] !== 0) recRel(m, K.EV_UNLOCK, m[l + F.cls], l);
  ticket_release(l);
}

/** A freed lock's debug word is POISON, never this CPU: so a use-after-free lands here first. */
function notHolder(l: number, where: string): never {
  checkLockMemory(l, where, where);
  crash('bug', where, `cpu${cpu} releases a lock it does not hold`);
}

export function spin_trylock(l: number): boolean {
  const cls = M[l + F.cls];
  lock_yield(0);
  if (fpOn) fp(l, l + SPINLOCK_WORDS);
  checkLockMemory(l, 'spin_trylock', 'spin_trylock');
  const old = Atomics.load(M, l);
  if ((old & 0xffff) !== (old >>> 16) || Atomics.compareExchange(M, l, old, (old + SPINLOCK_TICKET_INC) | 0) !== old) {
    if (lockTracing) record(EV.TRYFAIL, cls, l);
    return false;
  }
  got_lock(M, l, cls, 0);
  return true;
}

/** L21 semantics: a recursive lock answers "held by this CPU"; a plain one answers "held by anyone". */
export function spin_is_locked(l: number): boolean {
  if (fpOn) fp(l, l + SPINLOCK_WORDS);
  const rc = M[l + F.recurse] & RECURSE_CPU_MASK;
  if (rc === SPINLOCK_NO_CPU) { const v = Atomics.load(M, l); return (v & 0xffff) !== (v >>> 16); }
  return rc === cpu;
}

/** Wait until whoever holds the lock now has released it once. */
export function spin_barrier(l: number): void {
  lock_yield(0);
  if (fpOn) fp(l, l + SPINLOCK_WORDS);
  const v = Atomics.load(M, l);
  if ((v & 0xffff) === (v >>> 16)) return;
  const head = v & 0xffff;
  for (let spins = 0; ; spins++) {
    const w = Atomics.load(M, l);
    if ((w & 0xffff) !== head) return;
    checkLockMemory(l, 'spin_barrier', 'spin_barrier');
    waitStep(l, w, spins, true, l + F.sleepers);
  }
}

export function spin_lock_recursive(l: number): void {
  if (fpOn) fp(l, l + SPINLOCK_WORDS);
  if ((M[l + F.recurse] & RECURSE_CPU_MASK) !== cpu) {
    spin_lock(l);
    M[l + F.recurse] = (M[l + F.recurse] & ~RECURSE_CPU_MASK) | cpu;
  }
  const cnt = M[l + F.recurse] >>> RECURSE_CNT_SHIFT;
  ASSERT(cnt < RECURSE_MAX, 'spin_lock_recursive', 'recurse_cnt < SPINLOCK_MAX_RECURSE');
  M[l + F.recurse] += 1 << RECURSE_CNT_SHIFT;
}

export function spin_unlock_recursive(l: number): void {
  if (fpOn) fp(l, l + SPINLOCK_WORDS);
  const r = M[l + F.recurse];
  if ((r & RECURSE_CPU_MASK) !== cpu || (r >>> RECURSE_CNT_SHIFT) === 0) crash('bug', 'spin_unlock_recursive', `cpu${cpu} does not hold the lock`);
  const cnt = (r >>> RECURSE_CNT_SHIFT) - 1;
  if (cnt === 0) {
    M[l + F.recurse] = SPINLOCK_NO_CPU;
    spin_unlock(l);
  } else {
    M[l + F.recurse] = (cnt << RECURSE_CNT_SHIFT) | cpu;
  }
}

export function spin_recurse_count(l: number): number {
  if (fpOn) fp(l, l + SPINLOCK_WORDS);
  return M[l + F.recurse] >>> RECURSE_CNT_SHIFT;
}
