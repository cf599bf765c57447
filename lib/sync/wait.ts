// How a lab thread waits for a lock. Xen's CPUs spin with cpu_relax(); our threads can be descheduled while
// holding a lock (and there may be more threads than cores), so spinning is reserved for the one waiter that can
// proceed next, and everyone else sleeps (futex, or Atomics.wait without the addon: lib/sched/futex.ts):
//
// - Ticket waiters (spinlock_t, and the rwlock's queue spinlock) use proportional backoff with one wait slot per
//   ticket (spinlock.ts SPIN.wait: a handoff word, then slots indexed by ticket & 15; at most MAX_THREADS = 16
//   tickets are ever in flight, so a slot belongs to one waiter at a time). Only the next ticket holder (distance
//   1) spins, for SPIN_NS by the clock, and only while the holder is running; a waiter further back parks on its own
//   slot at once. An unlock that moves the head to h wakes at most one thread: ticket h if it sleeps (the lock is
//   handed to it; the handoff word tells the next in line not to spin on a holder that has no core yet), else
//   ticket h+1 if it sleeps (it is next in line behind a running holder, so it should spin). A holder that was
//   handed the lock while asleep wakes ticket h+1 once it runs (else every later handoff would go through a sleep
//   too: a convoy). Nobody else is woken: no thundering herd, and a wake is paid only when the one thread
//   that can use the wakeup sleeps.
// - Before taking a ticket (admitWait): a thread that finds a waiter already queued behind the holder would take a
//   ticket at distance >= 2 and park on it, and every later handoff would then wait for its wakeup. With more
//   threads than cores that is the steady state (each acquisition one sleep and one wake: a convoy). Instead it
//   yields its core, holding no ticket, until the queue is down to the holder (or SPIN_NS has passed), then takes
//   its ticket as Xen does: the order among ticket holders is Xen's, only the moment of the fetch-and-add moves,
//   as if the CPU had been delayed before spin_lock. The threads that have no core then hold no ticket.
// - Word waiters (spin_barrier, the rwlock's cnts word) sleep on the word itself after spinning, counted in a
//   sleepers word so that the writer of the word notifies only when someone sleeps.
//
// Every sleep is bounded (SLEEP_MS): on waking, the trial's stop flag and the lock's memory (freed under us?) are
// rechecked, so nothing spins or sleeps forever on a dead lock.

import { M, stopped } from '../mem/machine.js';
import { TrialStopped, crash } from '../mem/crash.js';
import { shadowOf, SHADOW_FREED, xenWould } from '../mem/heap.js';
import { controlled, block_on } from '../sched/mode.js';
import { lockSleep, lockWakeOne, lockWakeAll, lockYield } from '../sched/futex.js';

/** Loads a word waiter (waitStep: spin_barrier, the rwlock's cnts word) spins, when next in line, before it sleeps. */
export const SPIN_LIMIT = 4096;
/**
 * How long the next ticket holder spins before it parks, by the clock; bench/ref/ticket.c spins as long, so that
 * `bench locks` compares one policy (a count of loads was ~50 µs here and ~4 µs in C: not the same policy). 50 µs
 * is what the lab runs fastest with: `stress --strategy baseline --duration 25s` ran 10,085 / 11,262 / 13,355
 * trials with 3 / 20 / 50 µs (2 cores). VPCI_SPIN_NS overrides it on both sides, for machines that differ.
 */
export const SPIN_NS = spinNs(process.env.VPCI_SPIN_NS);
const SPIN_MS = SPIN_NS / 1e6;                  // performance.now()'s unit

function spinNs(v: string | undefined): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n >= 0 ? n : 50_000;
}
/** Upper bound of one sleep; stop flag and lock memory are rechecked after it. */
export const SLEEP_MS = 20;
/** Wait slots per ticket lock (a power of two >= MAX_THREADS). */
export const TICKET_SLOTS = 16;
/** Words of a ticket lock's wait block: the handoff word, then the slots. */
export const TICKET_WAIT_WORDS = 1 + TICKET_SLOTS;
/** A parked waiter stores `ticket | PARKED` in its slot (non-zero even for ticket 0). */
const PARKED = 0x10000;

/** Fail the CPU if the lock word now lies in freed memory: Xen would be spinning on (or taking) a dead lock. */
export function checkLockMemory(addr: number, what: string, where: string): void {
  if (shadowOf(addr) === SHADOW_FREED) crash('use-after-free', where, `${what} on a lock inside freed memory (an atomic write); ${xenWould('stale-pointer', 'write')}`);
}

/**
 * One step of waiting while M[addr] === seen (word waiters). `spins` is how long the caller has spun so far;
 * `nearHead` says the caller is next in line (worth spinning), else it sleeps at once: spinning behind other
 * waiters only steals the core from the thread that must run for the queue to move.
 */
export function waitStep(addr: number, seen: number, spins: number, nearHead: boolean, sleepersAddr: number): void {
  if (controlled) { block_on(addr, seen); return; }
  if (nearHead && spins < SPIN_LIMIT) {
    if ((spins & 1023) === 1023 && stopped()) throw new TrialStopped();
    return;
  }
  if (stopped()) throw new TrialStopped();
  Atomics.add(M, sleepersAddr, 1);
  if (Atomics.load(M, addr) === seen) lockSleep(addr, seen, SLEEP_MS);
  Atomics.sub(M, sleepersAddr, 1);
}

/** After changing a word that word waiters may sleep on: wake them, if any. */
export function wake(addr: number, sleepersAddr: number): void {
  if (Atomics.load(M, sleepersAddr) !== 0) lockWakeAll(addr);
}

/**
 * What this thread's ticket waits did (bench locks prints them per acquisition beside ticket.c's same counts): waits
 * begun, waiters found ahead (between us and the holder) when a wait began, spin phases begun, spin phases that ran
 * out (SPIN_NS passed: parked), next-in-line parks without spinning because the holder was handed the lock asleep,
 * parks that slept, µs slept, wakes of a new holder (handoff), wakes of a next-in-line, admission waits before a
 * ticket (admitWait) and the yields they made. Slow paths only: an add each.
 */
export const WAIT_COUNTS = ['waits', 'ahead', 'spins', 'spinOut', 'parkOnHandoff', 'sleeps', 'sleepUs', 'wakeHolder', 'wakeNext', 'admits', 'yields'] as const;
const enum WC { waits, ahead, spins, spinOut, parkOnHandoff, sleeps, sleepUs, wakeHolder, wakeNext, admits, yields }
const waitCounts = new Float64Array(WAIT_COUNTS.length);
/** This thread's wait counts since the last call (WAIT_COUNTS order), and zero them. */
export function takeWaitCounts(): number[] { const a = Array.from(waitCounts); waitCounts.fill(0); return a; }

/**
 * Wait for `ticket` to come up on the ticket word at `l` (head = low 16 bits). `wq` is the lock's wait block:
 * the handoff word at wq, then TICKET_SLOTS slots (one per ticket in flight). `where` names the caller for crash
 * reports. Returns when head === ticket.
 *
 * Spinning is worth it only for the next ticket holder, and only while the current holder is running: when the
 * lock was just handed to a sleeper (handoff word = its ticket | PARKED), that thread needs a core before anything
 * moves, so the next-in-line parks instead of spinning on it.
 */
export function ticketWait(l: number, wq: number, ticket: number, where: string): void {
  let spins = 0, spinUntil = 0;
  waitCounts[WC.waits]++;
  waitCounts[WC.ahead] += Math.max(0, ((ticket - Atomics.load(M, l)) & 0xffff) - 1);
  for (;;) {
    const v = Atomics.load(M, l);
    const d = (ticket - v) & 0xffff;
    if (d === 0) {
      // If the lock was handed to us while we slept, we run now: clear the handoff mark, and wake the next in line
      // if it parked because we had no core (else every later handoff would go through a sleep too).
      if (Atomics.load(M, wq) === (ticket | PARKED) && Atomics.compareExchange(M, wq, ticket | PARKED, 0) === (ticket | PARKED)) {
        unpark(wq, (ticket + 1) & 0xffff);
      }
      return;
    }
    if (controlled) {
      checkLockMemory(l, where, where);
      block_on(l, v);
      continue;
    }
    if (d === 1) {
      if (Atomics.load(M, wq) !== ((v & 0xffff) | PARKED)) {
        // Next in line and the holder runs: its unlock is a cache-line transfer away. Spin for SPIN_NS, by the clock.
        if (spinUntil === 0) { spinUntil = performance.now() + SPIN_MS; waitCounts[WC.spins]++; }
        if ((++spins & 63) !== 0 || performance.now() < spinUntil) {
          if ((spins & 1023) === 0) {
            checkLockMemory(l, where, where);
            if (stopped()) throw new TrialStopped();
          }
          continue;
        }
        waitCounts[WC.spinOut]++;
      } else waitCounts[WC.parkOnHandoff]++;
    }
    checkLockMemory(l, where, where);
    if (stopped()) throw new TrialStopped();
    park(l, wq + 1 + (ticket & (TICKET_SLOTS - 1)), ticket, d === 1);
    spins = 0; spinUntil = 0;
  }
}

/**
 * Sleep on the slot of `ticket` until an unlock makes us next in line (or gives us the lock). `atHead`: we are
 * already next in line (and chose not to spin), so only the lock itself is worth waking for.
 * Ordering (all seq-cst): we store the mark, then re-read head; the unlocker moves head, then reads the mark. Either
 * we see the new head and do not sleep, or the unlocker sees the mark and clears it before notifying; a clear that
 * lands before our Atomics.wait makes the wait return at once ('not-equal').
 */
function park(l: number, slot: number, ticket: number, atHead: boolean): void {
  const mark = ticket | PARKED;
  Atomics.store(M, slot, mark);
  const d = (ticket - Atomics.load(M, l)) & 0xffff;
  if (d > 1 || (d === 1 && atHead)) {
    const t0 = performance.now();
    lockSleep(slot, mark, SLEEP_MS);
    waitCounts[WC.sleeps]++; waitCounts[WC.sleepUs] += (performance.now() - t0) * 1000;
  }
  Atomics.compareExchange(M, slot, mark, 0);
}

/**
 * After an unlock moved the head of the ticket word to `head` with someone queued behind it. If the new holder
 * sleeps, wake it (and mark the handoff, so that the next in line does not spin on a holder that has no core yet).
 * If it was spinning, it runs: wake the new next-in-line, if it sleeps, so that it spins in its turn.
 */
export function ticketWake(wq: number, head: number): void {
  const mark = head | PARKED;
  const slot = wq + 1 + (head & (TICKET_SLOTS - 1));
  if (Atomics.load(M, slot) === mark) {
    Atomics.store(M, wq, mark);
    if (Atomics.compareExchange(M, slot, mark, 0) === mark) { waitCounts[WC.wakeHolder]++; lockWakeOne(slot); return; }
    Atomics.compareExchange(M, wq, mark, 0); // it saw the head move and did not sleep after all
  }
  unpark(wq, (head + 1) & 0xffff);
}

/** Wake the waiter holding `ticket` if it sleeps. */
function unpark(wq: number, ticket: number): void {
  const nslot = wq + 1 + (ticket & (TICKET_SLOTS - 1));
  if (Atomics.load(M, nslot) === (ticket | PARKED) && Atomics.compareExchange(M, nslot, ticket | PARKED, 0) === (ticket | PARKED)) {
    waitCounts[WC.wakeNext]++;
    lockWakeOne(nslot);
  }
}

/** Queue length of a ticket word (tail - head): 0 free, 1 held, >= 2 someone waits behind the holder. */
export const queued = (v: number): number => ((v >>> 16) - v) & 0xffff;

/**
 * Before the fetch-and-add on the ticket word at `l`, which already has a waiter behind its holder (queued >= 2):
 * yield this thread's core, holding no ticket, until the queue is down to the holder or SPIN_NS has passed (the
 * wait is bounded: then the ticket is taken whatever the queue, and FIFO order holds from there). See the header.
 */
export function admitWait(l: number): void {
  waitCounts[WC.admits]++;
  const until = performance.now() + SPIN_MS;
  for (;;) {
    waitCounts[WC.yields]++;
    lockYield(l, M[l]);
    if (queued(Atomics.load(M, l)) < 2 || performance.now() >= until) return;
  }
}
