// How a lab thread waits for a lock word to change. Xen's CPUs spin with cpu_relax(); our threads can be
// descheduled while holding a lock, so after a short spin they sleep in Atomics.wait on the word, counting
// themselves in a sleepers word so that the releaser pays for Atomics.notify only when someone sleeps.
// The sleep is bounded: the trial's stop flag and the lock's memory (freed under us?) are rechecked on wake.

import { M, stopped } from '../mem/machine.js';
import { TrialStopped, crash } from '../mem/crash.js';
import { shadowOf, SHADOW_FREED } from '../mem/heap.js';
import { controlled, block_on } from '../sched/mode.js';

export const SPIN_LIMIT = 128;
const SLEEP_MS = 20;

/** Fail the CPU if the lock word now lies in freed memory: Xen would be spinning on (or taking) a dead lock. */
export function checkLockMemory(addr: number, what: string, where: string): void {
  if (shadowOf(addr) === SHADOW_FREED) crash('use-after-free', where, `${what} on a lock inside freed memory`);
}

/**
 * One step of waiting while M[addr] === seen. `spins` is how long the caller has spun so far; `nearHead` says the
 * caller is next in line (worth spinning), else it sleeps at once: spinning behind other waiters only steals the
 * core from the thread that must run for the queue to move.
 */
export function waitStep(addr: number, seen: number, spins: number, nearHead: boolean, sleepersAddr: number): void {
  if (controlled) { block_on(addr, seen); return; }
  if (nearHead && spins < SPIN_LIMIT) return;
  if (stopped()) throw new TrialStopped();
  Atomics.add(M, sleepersAddr, 1);
  if (Atomics.load(M, addr) === seen) Atomics.wait(M, addr, seen, SLEEP_MS);
  Atomics.sub(M, sleepersAddr, 1);
}

/** After changing a lock word: wake sleepers, if any. */
export function wake(addr: number, sleepersAddr: number): void {
  if (Atomics.load(M, sleepersAddr) !== 0) Atomics.notify(M, addr);
}
