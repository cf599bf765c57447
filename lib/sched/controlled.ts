// Controlled scheduling: the same real threads, but a token in shared memory lets exactly one of them run between
// two yield points. At every decision point (yield point, block on a lock word, thread start and end) the thread
// holding the token runs the chooser, logs the decision, and hands the token on by setting the next thread's own
// wake word and notifying that word only, so a handoff wakes exactly one thread.
//
// Thread states: not-started -> runnable <-> blocked(addr, seen) -> done. A blocked thread becomes runnable again
// once M[addr] !== seen (futex semantics: generic for every lock type); it then re-checks its lock. No runnable
// thread while some are not done is a deadlock; more decisions than the step budget is a hang (livelock). The
// scheduler only marks the end (H.END) and parks; the main thread (lib/run) builds the report, then sets STOP and
// wakes everyone. Every wait is bounded (WAIT_MS) and rechecks CTL.STOP.

import { CTL, M, MAX_THREADS } from '../mem/machine.js';
import { TrialStopped } from '../mem/crash.js';
import { installControlled, MODE_CONTROLLED, MODE_FREE, MODE_JITTER, SCHED } from './mode.js';
import {
  H, HB, T, LOG, slot, ST_NOT_STARTED, ST_RUNNABLE, ST_BLOCKED, ST_DONE, STATE_NAMES,
  END_DONE, END_DEADLOCK, END_HANG, END_DIVERGED, END_STOPPED, END_RUNNING, PCT_MAX_CHANGE_POINTS,
} from './state.js';
import { CHOOSERS, chooserByName, CHOOSE_EXHAUSTED, type ChooserName } from './choosers/index.js';
import { formatSchedule, parseSchedule, threadLetter, ScheduleError, type Schedule } from './schedule.js';
import { noteDecision, noteWake } from './fault.js';

const WAIT_MS = 50;
export const DEFAULT_MAX_STEPS = 100_000;
export const DEFAULT_PCT_DEPTH = 3;

/** This thread's index in the run (its cpu), -1 outside a controlled run. */
let me = -1;

// ---------------------------------------------------------------- decisions (run by the token holder)

/** The next thread to run, or -END_* when nobody can run (done / deadlock) or the run must end (hang / diverged). */
function decide(current: number): number {
  const n = M[HB + H.NTHREADS];
  let mask = 0, live = 0;
  for (let c = 0; c < n; c++) {
    const s = slot(c);
    const st = M[s + T.STATE];
    if (st === ST_RUNNABLE) { mask |= 1 << c; live++; }
    else if (st === ST_BLOCKED) {
      live++;
      if (Atomics.load(M, M[s + T.ADDR]) !== M[s + T.SEEN]) { M[s + T.STATE] = ST_RUNNABLE; mask |= 1 << c; }
    } else if (st === ST_NOT_STARTED) live++;
  }
  if (mask === 0) return live > 0 ? -END_DEADLOCK : -END_DONE;
  const step = M[HB + H.STEP];
  if (step >= M[HB + H.MAX_STEPS]) return -END_HANG;
  const pick = CHOOSERS[M[HB + H.CHOOSER]].choose(mask, current, step);
  if (pick < 0) {
    M[HB + H.DIV_STEP] = step;
    M[HB + H.DIV_WANT] = pick === CHOOSE_EXHAUSTED ? -1 : LOG[step];
    M[HB + H.DIV_RUNNABLE] = mask;
    return -END_DIVERGED;
  }
  LOG[step] = pick;
  M[HB + H.STEP] = step + 1;
  noteDecision(step, mask, current, pick);
  if (pick !== current) M[HB + H.HANDOFFS]++;
  return pick;
}

function handoff(next: number): void {
  Atomics.store(M, HB + H.TOKEN, next);
  const w = slot(next) + T.WAKE;
  if (Atomics.exchange(M, w, 1) === 2) Atomics.notify(M, w, 1);
}

/** Sleep on this thread's own wake word until handed the token (0 idle, 2 asleep, 1 woken). */
function waitTurn(): void {
  const w = slot(me) + T.WAKE;
  let spins = M[HB + H.SPIN];
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
  Atomics.compareExchange(M, HB + H.END, END_RUNNING, code);
  Atomics.notify(M, HB + H.END);
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
  M[slot(me) + T.SITE] = site;
  proceed(decide(me));
}

function blockOn(addr: number, seen: number): void {
  if (Atomics.load(M, CTL.STOP) !== 0) throw new TrialStopped();
  const s = slot(me);
  M[s + T.ADDR] = addr;
  M[s + T.SEEN] = seen;
  M[s + T.STATE] = ST_BLOCKED;
  proceed(decide(me)); // chosen again only once M[addr] !== seen (decide marks it runnable)
  noteWake(addr);
}

/**
 * A thread retrying an operation that failed because others hold something (a trylock, a -ERESTART
 * continuation): as CHESS does for yielding threads, drop it below every other priority so a priority-based
 * chooser cannot starve the threads it waits for. Real CPUs run in parallel; the retry loop must not livelock here.
 */
function backoff(site: number): void {
  let lowest = Infinity;
  for (let c = 0; c < M[HB + H.NTHREADS]; c++) lowest = Math.min(lowest, M[slot(c) + T.PRIO]);
  M[slot(me) + T.PRIO] = lowest - 1;
  M[HB + H.YIELDING] = 1;
  yieldNow(site);
}

installControlled({ yieldNow, blockOn, backoff });

// ---------------------------------------------------------------- thread start / end (workers/thread.ts)

/** Enter the run as thread `c` and wait for the token. The last thread to arrive makes the first decision. */
export function schedThreadStart(c: number): void {
  me = c;
  Atomics.store(M, slot(c) + T.STATE, ST_RUNNABLE);
  if (Atomics.add(M, HB + H.STARTED, 1) + 1 === M[HB + H.NTHREADS]) {
    const next = decide(-1);
    if (next === me) { Atomics.store(M, HB + H.TOKEN, me); return; }
    if (next < 0) { endRun(-next); park(); }
    handoff(next);
  }
  waitTurn();
}

/** This thread's actor returned: mark it done and hand the token on (or end the run when it was the last). */
export function schedThreadDone(): void {
  if (me < 0) return;
  Atomics.store(M, slot(me) + T.STATE, ST_DONE);
  const next = decide(-1);
  me = -1;
  if (next >= 0) handoff(next);
  else endRun(-next);
}

/** End the trial now (a crash, the watchdog, the runner): set STOP, wake every thread and the main thread. */
export function stopAll(): void {
  Atomics.store(M, CTL.STOP, 1);
  for (let c = 0; c < MAX_THREADS; c++) {
    const w = slot(c) + T.WAKE;
    if (Atomics.exchange(M, w, 1) === 2) Atomics.notify(M, w, 1);
  }
  endRun(END_STOPPED);
}

// ---------------------------------------------------------------- the start barrier (both modes)

/**
 * Every task of a trial checks in here before its actor starts and waits until all `threads` have: proof that the
 * pool runs them concurrently (one worker each), and a common start line for free-running races.
 */
export function startBarrier(threads: number, timeoutMs: number): 'ok' | 'timeout' | 'stopped' {
  const w = HB + H.CHECKIN;
  let v = Atomics.add(M, w, 1) + 1;
  if (v >= threads) { Atomics.notify(M, w); return 'ok'; }
  const deadline = performance.now() + timeoutMs;
  while ((v = Atomics.load(M, w)) < threads) {
    if (Atomics.load(M, CTL.STOP) !== 0) return 'stopped';
    if (performance.now() > deadline) return 'timeout';
    Atomics.wait(M, w, v, 20);
  }
  return 'ok';
}
export function checkedIn(): number { return Atomics.load(M, HB + H.CHECKIN); }

// ---------------------------------------------------------------- main thread: set up a run, read its end

export interface ControlledOptions {
  /** Default: 'replay' when `schedule` is given, else 'random'. */
  chooser?: ChooserName;
  seed?: number;
  /** PCT depth d (bug depth it targets): d-1 priority change points. Default 3. */
  pctDepth?: number;
  /** PCT's estimate k of the run length in decisions. Default 100 (runTrial: the pool's last run length). */
  pctLength?: number;
  /** Replay this schedule (string or parsed). */
  schedule?: string | Schedule;
  /** Step budget: more decisions than this ends the run as a hang. Default DEFAULT_MAX_STEPS. */
  maxSteps?: number;
  /** Polls of the wake word before sleeping on it (0: sleep at once). */
  spin?: number;
}

export interface FreeOptions {
  /** Random delays at yield points (locktorture-style), per mille of yield points, up to maxUs each; the delay
   * generator of each CPU is seeded from `seed` (default 1) and the CPU number. */
  jitter?: { permille: number; maxUs: number; seed?: number };
}

/** Capacity of the decision log of the attached machine. */
export function decisionCapacity(): number { return LOG.length; }

function resetHeader(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) throw new RangeError(`threads must be 1..${MAX_THREADS}`);
  M.fill(0, HB, HB + H.PCT_CP + PCT_MAX_CHANGE_POINTS);
  for (let c = 0; c < MAX_THREADS; c++) M.fill(0, slot(c), slot(c) + T.WAKE + 1);
  M[HB + H.TOKEN] = -1;
  M[HB + H.NTHREADS] = threads;
  M[HB + H.CAPACITY] = LOG.length;
  me = -1;
}

/** Main thread, machine attached, before the threads start: a free-running run. */
export function prepareFree(threads: number, o: FreeOptions = {}): void {
  resetHeader(threads);
  const j = o.jitter;
  M[CTL.SCHED + SCHED.MODE] = j && j.permille > 0 ? MODE_JITTER : MODE_FREE;
  M[CTL.SCHED + SCHED.JITTER_PERMILLE] = j ? Math.max(0, Math.min(1000, Math.round(j.permille))) : 0;
  M[CTL.SCHED + SCHED.JITTER_MAX_US] = j ? Math.max(0, Math.round(j.maxUs)) : 0;
  M[CTL.SCHED + SCHED.JITTER_SEED] = (j?.seed ?? 1) | 0;
}

export interface ControlledSettings { chooser: ChooserName; seed: number; pctDepth: number; pctLength: number; maxSteps: number; replayLength: number }

/** Main thread, machine attached, before the threads start: a controlled run. Returns the settings used. */
export function prepareControlled(threads: number, o: ControlledOptions = {}): ControlledSettings {
  resetHeader(threads);
  let replay: Schedule | undefined;
  if (o.schedule !== undefined) {
    replay = typeof o.schedule === 'string' ? parseSchedule(o.schedule) : o.schedule;
    if (replay.threads !== threads) throw new ScheduleError(`schedule is for ${replay.threads} thread(s), this run has ${threads}`);
  }
  const chooser = o.chooser ?? (replay ? 'replay' : 'random');
  if (chooser === 'replay' && !replay) throw new ScheduleError('the replay chooser needs a schedule');
  const seed = (o.seed ?? (Math.random() * 0x7fffffff)) >>> 0;
  const pctDepth = o.pctDepth ?? DEFAULT_PCT_DEPTH;
  if (!Number.isInteger(pctDepth) || pctDepth < 1 || pctDepth > PCT_MAX_CHANGE_POINTS + 1) throw new RangeError(`PCT depth must be 1..${PCT_MAX_CHANGE_POINTS + 1}`);
  const pctLength = Math.max(1, Math.round(o.pctLength ?? 100));
  const maxSteps = o.maxSteps ?? Math.min(DEFAULT_MAX_STEPS, LOG.length);
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > LOG.length) throw new RangeError(`maxSteps must be 1..${LOG.length} (the machine's decision log; see MachineSpec.schedDecisions)`);
  if (replay && replay.decisions.length > LOG.length) throw new ScheduleError(`schedule has ${replay.decisions.length} decisions, the machine logs at most ${LOG.length}`);
  const ch = chooserByName(chooser);
  M[HB + H.CHOOSER] = ch.id;
  M[HB + H.MAX_STEPS] = maxSteps;
  M[HB + H.SPIN] = Math.max(0, o.spin ?? 0);
  M[HB + H.SEED] = seed | 0;
  ch.setup({ threads, seed, pctDepth, pctLength, replay: replay?.decisions });
  M[CTL.SCHED + SCHED.MODE] = MODE_CONTROLLED;
  M[CTL.SCHED + SCHED.JITTER_PERMILLE] = 0;
  return { chooser, seed, pctDepth, pctLength, maxSteps, replayLength: replay?.decisions.length ?? 0 };
}

/** Word the main thread waits on (Atomics.waitAsync) for the scheduler's end. */
export function schedEndAddr(): number { return HB + H.END; }
export function schedEnd(): number { return Atomics.load(M, HB + H.END); }
export function schedSteps(): number { return M[HB + H.STEP]; }
export function schedHandoffs(): number { return M[HB + H.HANDOFFS]; }
export function schedThreads(): number { return M[HB + H.NTHREADS]; }
export function schedStarted(): number { return Atomics.load(M, HB + H.STARTED); }

/** The schedule string of the run so far (its decisions). */
export function scheduleString(): string {
  return formatSchedule(M[HB + H.NTHREADS], LOG.subarray(0, M[HB + H.STEP]));
}

export interface ThreadSchedState { cpu: number; state: (typeof STATE_NAMES)[number]; blockedOn: number; lastSite: number }
export function threadSchedState(c: number): ThreadSchedState {
  const s = slot(c);
  const st = M[s + T.STATE];
  return { cpu: c, state: STATE_NAMES[st] ?? 'not-started', blockedOn: st === ST_BLOCKED ? M[s + T.ADDR] : 0, lastSite: M[s + T.SITE] };
}

/** Human-readable account of a replay divergence (after H.END === END_DIVERGED). */
export function divergenceInfo(): { step: number; wanted: number; runnable: number[]; message: string } {
  const step = M[HB + H.DIV_STEP], wanted = M[HB + H.DIV_WANT], mask = M[HB + H.DIV_RUNNABLE];
  const runnable: number[] = [];
  for (let c = 0; c < 32; c++) if ((mask >>> c) & 1) runnable.push(c);
  const names = runnable.map((c) => `${threadLetter(c)} (cpu${c})`).join(', ');
  const message = wanted < 0
    ? `replay diverged: the schedule ended after ${step} decisions but the run goes on (runnable: ${names}); ` +
      'a different scenario, strategy or step budget?'
    : `replay diverged at decision ${step}: the schedule picks ${threadLetter(wanted)} (cpu${wanted}), which is ` +
      `${threadSchedState(wanted).state} there; runnable: ${names}`;
  return { step, wanted, runnable, message };
}

