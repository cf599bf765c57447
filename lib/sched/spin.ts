// How a controlled thread waits for the token (and for the start barrier): spin, then park. A cross-thread wake
// through Atomics.wait/notify costs tens of µs; a thread polling its wake word sees the handoff within a cache-line
// transfer. Polling pays only while the thread that will hand over has a core of its own, so:
//
// - at most CORES - 1 threads of a run poll at a time (the token holder needs the last core); the others park at once;
// - each thread polls for SPIN_MS, and learns from its own waits: it keeps a running average of how often a wait
//   ended while polling (the hit rate), and parks at once while that is below HIT_RATE_MIN, probing again every
//   PROBE_EVERY waits (twice as far apart after each probe that misses, up to PROBE_EVERY_MAX); a probe that hits
//   resumes polling at once. A run of more threads than free cores (or a
//   machine busy with other work) thus backs off to parking, and comes back as soon as polling pays again.
//   SPIN_MS is about what a park and wake cost, so a miss costs at most about twice what parking at once would;
//   a budget of three times the usual wait (5 µs when the other thread hands back within 1-2 µs) missed whenever
//   the token holder lost its core for a moment (an interrupt, the main thread's wake-ups), and each miss put both
//   threads through a round of wakes: 25-75 such misses per thread in a 50,000-handoff run, against 1-11 with 50 µs.
// - a wait that follows a handoff to a sleeping thread is different: the answer cannot come before that thread has
//   been woken by the kernel (tens of µs), so such a wait polls for WAKE_SPIN_MS, and its misses are kept apart, in
//   a rate of their own (below WAKE_HIT_RATE_MIN such waits park at once, probing every PROBE_EVERY). Were they
//   counted with the others, two threads on two cores would fall into parking for good after one slow wake (each
//   waking the other from sleep, each short poll missing): measured, 64-85 k handoffs/s instead of 600 k. Kept
//   apart, a busy machine where wakes are slow still stops them from burning their budget.
//
// CORES is os.availableParallelism(), or VPCI_CORES when a parent runs several lab processes side by side and
// gives each its share.

import { availableParallelism } from 'node:os';
import { CTL, M } from '../mem/machine.js';

/** Poll of one wait (ms): about what parking and being woken cost here. */
export const SPIN_MS = 0.05;
/**
 * Below this hit rate, polling costs the other threads more cores than it saves wakeups: a miss burns its whole
 * budget, a hit saves one park and wake (6-30 µs, by machine and load).
 */
const HIT_RATE_MIN = 0.75;
/** Poll of a wait that follows a handoff to a sleeping thread (ms): its wake-up, plus a short turn. */
export const WAKE_SPIN_MS = 0.15;
/** Below this hit rate of the waits after a wake, they park at once: a miss there burns WAKE_SPIN_MS. */
const WAKE_HIT_RATE_MIN = 0.5;
/**
 * Once polling stopped paying: waits that park at once between two probes, at first and at most. Each probe that
 * misses doubles the interval; a hit brings it back. A probe burns its whole budget when it misses, and in a run of
 * more threads than cores nearly all do (bench sched --threads 4, 2 cores, load 10: 7-21 of ~250-290 probes per
 * thread per 75,000-handoff run hit), so at one probe per 64 waits the four threads burnt 25-50 ms of CPU per run
 * (the 50 µs and 150 µs budgets) that the woken threads needed.
 */
const PROBE_EVERY = 64, PROBE_EVERY_MAX = 1024;
/**
 * A probe that hits resumes polling at once, at this rate (two misses in a row stop it again). Climbing back by the
 * running average took several probes, hundreds of parked waits: the first 50,000-handoff run after a cold start
 * (bench sched --runs 1) spent most of its time parked after the misses of its warm-up.
 */
const RECOVERED = 0.875;

function coresOf(v: string | undefined): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isInteger(n) && n >= 1 ? n : availableParallelism();
}
/** Cores this process may use. */
export const CORES = coresOf(process.env.VPCI_CORES);

// This thread's hit rates (running averages, weight 1/8 per wait), kept across trials in a worker.
let hitRate = 1, wakeHitRate = 1;
let parkedWaits = 0, parkedWakeWaits = 0;
/** Waits between two probes now (PROBE_EVERY..PROBE_EVERY_MAX): ordinary / after a wake. */
let probeEvery = PROBE_EVERY, wakeProbeEvery = PROBE_EVERY;
/** This thread's next wait is a probe (its rate is below the minimum): ordinary / after a wake. */
let probing = false, wakeProbing = false;
/** Waits of this thread that ended while polling / that polled and then parked (tests and benchmarks read them). */
export const spinStats = { hits: 0, misses: 0 };

/**
 * The poll budget (ms) of this thread's next wait, 0 when it should park at once. `afterWake`: this thread has just
 * handed the token to a sleeping thread.
 */
export function spinBudget(afterWake = false): number {
  if (CORES < 2) return 0;
  if (afterWake) {
    wakeProbing = wakeHitRate < WAKE_HIT_RATE_MIN;
    if (wakeProbing && ++parkedWakeWaits < wakeProbeEvery) return 0;
    parkedWakeWaits = 0;
    return WAKE_SPIN_MS;
  }
  probing = hitRate < HIT_RATE_MIN;
  if (probing && ++parkedWaits < probeEvery) return 0;
  parkedWaits = 0;
  return SPIN_MS;
}

function learn(hit: boolean, afterWake: boolean): void {
  if (hit) spinStats.hits++; else spinStats.misses++;
  if (afterWake) {
    if (wakeProbing) wakeProbeEvery = hit ? PROBE_EVERY : Math.min(2 * wakeProbeEvery, PROBE_EVERY_MAX);
    wakeHitRate = hit && wakeProbing ? RECOVERED : wakeHitRate + ((hit ? 1 : 0) - wakeHitRate) / 8;
    if (hit) hitRate += (1 - hitRate) / 8; // the other thread polls from now on: ordinary waits may pay again
    return;
  }
  if (probing) probeEvery = hit ? PROBE_EVERY : Math.min(2 * probeEvery, PROBE_EVERY_MAX);
  hitRate = hit && probing ? RECOVERED : hitRate + ((hit ? 1 : 0) - hitRate) / 8;
}

/**
 * Poll M[addr] while it holds `seen`, for at most `budget` ms (spinBudget), and learn from the result. True when
 * the word changed while polling; false when the budget ran out or the trial's STOP flag went up.
 */
export function pollWhile(addr: number, seen: number, budget: number, afterWake = false): boolean {
  const until = performance.now() + budget;
  let hit = false;
  for (let i = 1; ; i++) {
    if (Atomics.load(M, addr) !== seen) { hit = true; break; }
    if ((i & 63) === 0 && (performance.now() > until || Atomics.load(M, CTL.STOP) !== 0)) break;
  }
  learn(hit, afterWake);
  return hit;
}

/** A fixed number of polls (ControlledOptions.spin > 0, for benchmarks): true when M[addr] changed meanwhile. */
export function pollCount(addr: number, seen: number, polls: number): boolean {
  for (let i = 0; i < polls; i++) {
    if (Atomics.load(M, addr) !== seen) return true;
    if ((i & 1023) === 1023 && Atomics.load(M, CTL.STOP) !== 0) return false;
  }
  return false;
}
