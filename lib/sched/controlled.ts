// Controlled scheduling: the same real threads, but a token in shared memory lets exactly one of them run between
// two yield points. At every decision point (yield point, block on a lock word, thread start and end) the thread
// holding the token runs the chooser, logs the decision, and hands the token on by setting the next thread's own
// wake word and notifying that word only, so a handoff wakes exactly one thread.
//
// Thread states: not-started -> runnable <-> blocked(addr, seen) -> done; a thread that has not started yet counts
// as runnable (it is on its way). A blocked thread becomes runnable again once M[addr] !== seen (futex semantics:
// generic for every lock type); it then re-checks its lock. No runnable thread while some are not done is a
// deadlock; more decisions than the step budget is a hang (livelock). The scheduler only marks the end
// (SCHED_HEADER.END) and parks; the main thread (lib/run) builds the report, then sets STOP and wakes everyone.
// Every wait is bounded (WAIT_MS) and rechecks CTL.STOP.

import { CTL, M, MAX_THREADS } from '../mem/machine.js';
import { TrialStopped } from '../mem/crash.js';
import { installControlled } from './mode.js';
import {
  SCHED_HEADER, schedBase, SCHED_SLOT, LOG, slot, ST_NOT_STARTED, ST_RUNNABLE, ST_BLOCKED, ST_DONE,
  END_DONE, END_DEADLOCK, END_HANG, END_DIVERGED, END_STOPPED, END_RUNNING, SPIN_AUTO,
} from './state.js';
import { spinBudget, pollWhile, pollCount, CORES } from './spin.js';
import { sleepOn, wakeOne } from './futex.js';
import { placeThread, checkPlace } from './place.js';
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
    if (st === ST_RUNNABLE || st === ST_NOT_STARTED) { mask |= 1 << c; live++; } // not arrived yet: runnable (schedThreadStart)
    else if (st === ST_BLOCKED) {
      live++;
      if (Atomics.load(M, M[s + SCHED_SLOT.ADDR]) !== M[s + SCHED_SLOT.SEEN]) { M[s + SCHED_SLOT.STATE] = ST_RUNNABLE; mask |= 1 << c; }
    }
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

// A thread's wake word (SCHED_SLOT.WAKE): who may run is decided by the token holder, and this word tells the one
// chosen. A handoff exchanges it to WOKEN: from ASLEEP it also notifies; from POLLING the waker inherits the chosen
// thread's polling place (spin.ts: at most CORES - 1 threads of a run poll), which it uses for its own next wait.
const IDLE = 0, WOKEN = 1, ASLEEP = 2, POLLING = 3;
/** This thread holds one of the run's polling places (counted in SCHED_HEADER.SPINNERS). */
let place = false;
/** This thread's last handoff woke a sleeping thread (its next wait polls for that wake: spin.ts). */
let wokeSleeper = false;

function releasePlace(): void {
  if (place) { Atomics.sub(M, schedBase + SCHED_HEADER.SPINNERS, 1); place = false; }
}

function handoff(next: number): void {
  Atomics.store(M, schedBase + SCHED_HEADER.TOKEN, next);
  const w = slot(next) + SCHED_SLOT.WAKE;
  const old = Atomics.exchange(M, w, WOKEN);
  wokeSleeper = old === ASLEEP;
  if (wokeSleeper) wakeOne(w);
  else if (old === POLLING) { releasePlace(); place = true; }
  else if (Atomics.load(M, slot(next) + SCHED_SLOT.STATE) === ST_NOT_STARTED) { callIn(next); wokeSleeper = true; }
}

/**
 * Wakes the worker that is to run CPU c of this trial, when its task was handed to it without a wake (lib/run:
 * a controlled trial wakes only its first CPU; the others are called in when first picked, or stopped). Set by the
 * pool's workers and by the main thread that runs the trial.
 */
let arriveBell: (c: number) => void = () => {};
export function setArriveBell(ring: (c: number) => void): void { arriveBell = ring; }

/** CPU c has not arrived yet and must now: ring its worker (counted in SCHED_HEADER.CALLED, for the runner). */
function callIn(c: number): void {
  Atomics.or(M, schedBase + SCHED_HEADER.CALLED, 1 << c);
  arriveBell(c);
}

/**
 * Poll the wake word before sleeping on it: SPIN_AUTO with this thread's adaptive budget (spin.ts) on one of the
 * run's CORES - 1 polling places, a positive count (benchmarks) that many times on any place.
 */
function pollTurn(w: number, spin: number): void {
  const afterWake = wokeSleeper;
  wokeSleeper = false;
  const budget = spin === SPIN_AUTO ? spinBudget(afterWake) : spin;
  if (budget === 0) { releasePlace(); return; }
  if (!place) {
    if (Atomics.add(M, schedBase + SCHED_HEADER.SPINNERS, 1) >= CORES - 1 && spin === SPIN_AUTO) { Atomics.sub(M, schedBase + SCHED_HEADER.SPINNERS, 1); return; }
    place = true;
  }
  if (Atomics.compareExchange(M, w, IDLE, POLLING) !== IDLE) { releasePlace(); return; } // woken already
  if (spin === SPIN_AUTO) pollWhile(w, POLLING, budget, afterWake); else pollCount(w, POLLING, spin);
  if (Atomics.compareExchange(M, w, POLLING, IDLE) === POLLING) releasePlace(); // still waiting: sleep, place freed
  else place = false;                                                           // woken: the waker took the place
}

/** Waits of this thread: every 16th may look whether other processes crowd the cores (place.ts checkPlace). */
let waits = 0;

/** Wait on this thread's own wake word until handed the token: poll (pollTurn), then sleep on it. */
function waitTurn(): void {
  const w = slot(me) + SCHED_SLOT.WAKE;
  const spin = M[schedBase + SCHED_HEADER.SPIN];
  if ((++waits & 15) === 0) checkPlace();
  if (spin !== 0 && Atomics.load(M, w) === IDLE) pollTurn(w, spin);
  else releasePlace();
  for (;;) {
    const v = Atomics.load(M, w);
    if (v === WOKEN) { Atomics.store(M, w, IDLE); break; }
    if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
    if (v === IDLE && Atomics.compareExchange(M, w, IDLE, ASLEEP) !== IDLE) continue;
    sleepOn(w, ASLEEP, WAIT_MS);
  }
  if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
}

/**
 * Rung when this thread ends a run with its threads parked (deadlock, hang, divergence), for the main thread to stop
 * it (a pool worker rings its pool's bell: lib/run/pool.ts). A run that is done or stopped ends by itself.
 */
let endBell: () => void = () => {};
export function setEndBell(ring: () => void): void { endBell = ring; }

function endRun(code: number): void {
  Atomics.compareExchange(M, schedBase + SCHED_HEADER.END, END_RUNNING, code);
  Atomics.notify(M, schedBase + SCHED_HEADER.END);
  if (code !== END_DONE && code !== END_STOPPED) endBell();
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

/**
 * Enter the run as thread `c` and wait for the token. The first thread to arrive makes the first decision at once:
 * a thread that has not arrived yet is runnable (decide), so the decisions are those made once every thread has
 * arrived, whoever makes them and whenever the others arrive. A thread picked before it arrives finds its wake word
 * set and runs without sleeping; the first thread, when it picks itself, runs while the others are still starting.
 * (Waiting for the last to arrive cost a sleep and a wake in most runs: the first to arrive slept, and was woken.)
 */
export function schedThreadStart(c: number): void {
  me = c;
  place = false;
  if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
  placeThread(c, M[schedBase + SCHED_HEADER.NTHREADS], M[schedBase + SCHED_HEADER.SPIN]);
  Atomics.store(M, slot(c) + SCHED_SLOT.STATE, ST_RUNNABLE);
  if (Atomics.add(M, schedBase + SCHED_HEADER.STARTED, 1) === 0) {
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
  releasePlace();
}

/** End the trial now (a crash, the watchdog, the runner): set STOP, wake every thread and the main thread. */
export function stopAll(): void {
  Atomics.store(M, CTL.STOP, 1);
  const n = M[schedBase + SCHED_HEADER.NTHREADS];
  for (let c = 0; c < MAX_THREADS; c++) {
    const w = slot(c) + SCHED_SLOT.WAKE;
    if (Atomics.exchange(M, w, WOKEN) === ASLEEP) wakeOne(w);
    else if (c < n && Atomics.load(M, slot(c) + SCHED_SLOT.STATE) === ST_NOT_STARTED) arriveBell(c); // to stop
  }
  endRun(END_STOPPED);
}
