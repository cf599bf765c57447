// Controlled scheduling: the same real threads, but a token in shared memory lets exactly one of them run between
// two yield points. At every decision point (yield point, block on a lock word, thread start and end) the thread
// holding the token runs the chooser, logs the decision, and hands the token on by setting the next thread's own
// wake word and notifying that word only, so a handoff wakes exactly one thread.
//
// Thread states: not-started -> runnable <-> blocked(addr, seen) -> done. A blocked thread becomes runnable again
// once M[addr] !== seen (futex semantics: generic for every lock type); it then re-checks its lock. No runnable
// thread while some are not done is a deadlock; more decisions than the step budget is a hang (livelock). The
// scheduler only marks the end (SCHED_HEADER.END) and parks; the main thread (lib/run) builds the report, then sets STOP and
// wakes everyone. Every wait is bounded (WAIT_MS) and rechecks CTL.STOP.

import { CTL, M, MAX_THREADS } from '../mem/machine.js';
import { TrialStopped } from '../mem/crash.js';
import { installControlled } from './mode.js';
import {
  SCHED_HEADER, schedBase, SCHED_SLOT, LOG, slot, ST_NOT_STARTED, ST_RUNNABLE, ST_BLOCKED, ST_DONE,
  END_DONE, END_DEADLOCK, END_HANG, END_DIVERGED, END_STOPPED, END_RUNNING,
} from './state.js';
import { CHOOSERS, CHOOSE_EXHAUSTED } from './choosers/index.js';
import { noteDecision, noteWake } from './fault.js';

const WAIT_MS = 50;

/** This thread's index in the run (its cpu), -1 outside a controlled run. */
let me = -1;
/** A new run is being set up in this thread: it is no thread of it (yet). */
export function forgetThread(): void { me = -1; }

// ---------------------------------------------------------------- decisions (run by the token holder)

/** The next thread to run, or -END_* when nobody can run (done / deadlock) or the run must end (hang / diverged). */
function decide(current: number): number {
  const n = M[schedBase + SCHED_HEADER.NTHREADS];
  let mask = 0, live = 0;
  for (let c = 0; c < n; c++) {
    const s = slot(c);
    const st = M[s + SCHED_SLOT.STATE];
    if (st === ST_RUNNABLE) { mask |= 1 << c; live++; }
    else if (st === ST_BLOCKED) {
      live++;
      if (Atomics.load(M, M[s + SCHED_SLOT.ADDR]) !== M[s + SCHED_SLOT.SEEN]) { M[s + SCHED_SLOT.STATE] = ST_RUNNABLE; mask |= 1 << c; }
    } else if (st === ST_NOT_STARTED) live++;
  }
  if (mask === 0) return live > 0 ? -END_DEADLOCK : -END_DONE;
  const step = M[schedBase + SCHED_HEADER.STEP];
  if (step >= M[schedBase + SCHED_HEADER.MAX_STEPS]) return -END_HANG;
  const pick = CHOOSERS[M[schedBase + SCHED_HEADER.CHOOSER]].choose(mask, current, step, M[schedBase + SCHED_HEADER.YIELDING] !== 0);
  if (pick < 0) {
    M[schedBase + SCHED_HEADER.DIV_STEP] = step;
    M[schedBase + SCHED_HEADER.DIV_WANT] = pick === CHOOSE_EXHAUSTED ? -1 : LOG[step];
    M[schedBase + SCHED_HEADER.DIV_RUNNABLE] = mask;
    return -END_DIVERGED;
  }
  LOG[step] = pick;
  M[schedBase + SCHED_HEADER.STEP] = step + 1;
  noteDecision(step, mask, current, pick);
  if (pick !== current) M[schedBase + SCHED_HEADER.HANDOFFS]++;
  return pick;
}

function handoff(next: number): void {
  Atomics.store(M, schedBase + SCHED_HEADER.TOKEN, next);
  const w = slot(next) + SCHED_SLOT.WAKE;
  if (Atomics.exchange(M, w, 1) === 2) Atomics.notify(M, w, 1);
}

/** Sleep on this thread's own wake word until handed the token (0 idle, 2 asleep, 1 woken). */
function waitTurn(): void {
  const w = slot(me) + SCHED_SLOT.WAKE;
  let spins = M[schedBase + SCHED_HEADER.SPIN];
  for (;;) {
    const v = Atomics.load(M, w);
    if (v === 1) { Atomics.store(M, w, 0); break; }
    if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
    if (spins > 0) { spins--; continue; }
    if (v === 0 && Atomics.compareExchange(M, w, 0, 2) !== 0) continue;
    Atomics.wait(M, w, 2, WAIT_MS);
  }
  if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
}

function endRun(code: number): void {
  Atomics.compareExchange(M, schedBase + SCHED_HEADER.END, END_RUNNING, code);
  Atomics.notify(M, schedBase + SCHED_HEADER.END);
}

/** The run is over for this thread but others must report first: wait for STOP. */
function park(): never {
  waitTurn();
  throw new TrialStopped();
}

function proceed(next: number): void {
  if (next === me) return;
  if (next < 0) { endRun(-next); park(); }
  handoff(next);
  waitTurn();
}

// ---------------------------------------------------------------- the hooks behind yield_point / block_on

function yieldNow(site: number): void {
  if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
  M[slot(me) + SCHED_SLOT.SITE] = site;
  proceed(decide(me));
}

function blockOn(addr: number, seen: number): void {
  if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
  const s = slot(me);
  M[s + SCHED_SLOT.ADDR] = addr;
  M[s + SCHED_SLOT.SEEN] = seen;
  M[s + SCHED_SLOT.STATE] = ST_BLOCKED;
  proceed(decide(me)); // chosen again only once M[addr] !== seen (decide marks it runnable)
  noteWake(addr);
}

/**
 * A thread retrying an operation that failed because others hold something (a trylock, a -ERESTART
 * continuation) tells the chooser it is yielding, as shuttle's is_yielding does; a priority-based chooser drops
 * it below the others so it cannot starve the threads it waits for. Real CPUs run in parallel; no livelock here.
 */
function backoff(site: number): void {
  M[schedBase + SCHED_HEADER.YIELDING] = 1;                  // the chooser is told (choose's `yielding`); noteDecision clears it
  yieldNow(site);
}

installControlled({ yieldNow, blockOn, backoff });

// ---------------------------------------------------------------- thread start / end (workers/thread.ts)

/** Enter the run as thread `c` and wait for the token. The last thread to arrive makes the first decision. */
export function schedThreadStart(c: number): void {
  me = c;
  Atomics.store(M, slot(c) + SCHED_SLOT.STATE, ST_RUNNABLE);
  if (Atomics.add(M, schedBase + SCHED_HEADER.STARTED, 1) + 1 === M[schedBase + SCHED_HEADER.NTHREADS]) {
    const next = decide(-1);
    if (next === me) { Atomics.store(M, schedBase + SCHED_HEADER.TOKEN, me); return; }
    if (next < 0) { endRun(-next); park(); }
    handoff(next);
  }
  waitTurn();
}

/** This thread's actor returned: mark it done and hand the token on (or end the run when it was the last). */
export function schedThreadDone(): void {
  if (me < 0) return;
  Atomics.store(M, slot(me) + SCHED_SLOT.STATE, ST_DONE);
  const next = decide(-1);
  me = -1;
  if (next >= 0) handoff(next);
  else endRun(-next);
}

/** End the trial now (a crash, the watchdog, the runner): set STOP, wake every thread and the main thread. */
export function stopAll(): void {
  Atomics.store(M, CTL.STOP, 1);
  for (let c = 0; c < MAX_THREADS; c++) {
    const w = slot(c) + SCHED_SLOT.WAKE;
    if (Atomics.exchange(M, w, 1) === 2) Atomics.notify(M, w, 1);
  }
  endRun(END_STOPPED);
}
