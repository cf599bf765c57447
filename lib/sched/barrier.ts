// The start barrier of a trial (both modes): every task checks in before its actor starts.

import { CTL, M } from '../mem/machine.js';
import { SCHED_HEADER, schedBase } from './state.js';
import { spinBudget, pollWhile, CORES } from './spin.js';
import { placeThread } from './place.js';

/**
 * Every task of a trial checks in here before its actor starts and waits until all `threads` have: proof that the
 * pool runs them concurrently (one worker each), and a common start line for free-running races.
 */
export function startBarrier(threads: number, timeoutMs: number): 'ok' | 'timeout' | 'stopped' {
  placeThread(-1); // a free-running trial's threads go where the kernel puts them (controlled runs may pin: place.ts)
  const w = schedBase + SCHED_HEADER.CHECKIN;
  let v = Atomics.add(M, w, 1) + 1;
  if (v >= threads) { Atomics.notify(M, w); return 'ok'; }
  const deadline = performance.now() + timeoutMs;
  // The other tasks are usually a message dispatch away: when the trial's threads fit the cores, poll before
  // sleeping (spin.ts decides how long, if at all).
  const poll = threads <= CORES;
  while ((v = Atomics.load(M, w)) < threads) {
    if (Atomics.load(M, CTL.STOP) !== 0) return 'stopped';
    if (performance.now() > deadline) return 'timeout';
    const budget = poll ? spinBudget() : 0;
    if (budget === 0 || !pollWhile(w, v, budget)) Atomics.wait(M, w, v, 20);
  }
  return 'ok';
}
export function checkedIn(): number { return Atomics.load(M, schedBase + SCHED_HEADER.CHECKIN); }

/**
 * A controlled trial's task checks in without waiting: the scheduler's start (controlled.ts schedThreadStart) already
 * holds every thread until the last one has arrived, and wakes only the one it picks; the barrier's wakeups would be
 * two more context switches per CPU per run. The check-in still lets the runner see a CPU that never started.
 */
export function checkIn(): void { Atomics.add(M, schedBase + SCHED_HEADER.CHECKIN, 1); }
