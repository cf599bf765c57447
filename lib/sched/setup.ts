// The main thread's side of a run: set up the scheduler's shared state for a free-running or controlled run, and
// read how it ended (end code, decisions, schedule string, divergence, each thread's state).

import { CTL, M, MAX_THREADS } from '../mem/machine.js';
import { MODE_CONTROLLED, MODE_FREE, MODE_JITTER, SCHED } from './mode.js';
import {
  SCHED_HEADER, schedBase, SCHED_SLOT, LOG, slot, STATE_NAMES, ST_BLOCKED, ST_NOT_STARTED, PCT_MAX_CHANGE_POINTS, SPIN_AUTO,
} from './state.js';
import { chooserByName, type ChooserName } from './choosers/index.js';
import { forgetThread } from './controlled.js';
import { formatSchedule, formatScheduleV2, parseSchedule, threadLetter, ScheduleError, type Schedule } from './schedule.js';
import { faultFailures, siteDigest } from './fault.js';

export const DEFAULT_MAX_STEPS = 100_000;
export const DEFAULT_PCT_DEPTH = 3;
const DEFAULT_SPIN: number | 'auto' = (() => {
  const v = process.env.VPCI_SCHED_SPIN;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 'auto';
})();

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
  /** Polls of the wake word before sleeping on it (0: sleep at once); default (or 'auto'): spin then park with an
   * adaptive budget (spin.ts). VPCI_SCHED_SPIN sets the default (0, a count or auto), for A/B measurements. */
  spin?: number | 'auto';
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
  const high = Math.max(M[schedBase + SCHED_HEADER.STEP], M[schedBase + SCHED_HEADER.REPLAY_LEN], M[schedBase + SCHED_HEADER.LOG_HIGH]);
  M.fill(0, schedBase, schedBase + SCHED_HEADER.words); // the site digest and fault log too: a run's S2 string is its own
  M[schedBase + SCHED_HEADER.LOG_HIGH] = high;
  for (let c = 0; c < MAX_THREADS; c++) M.fill(0, slot(c), slot(c) + SCHED_SLOT.WAKE + 1);
  M[schedBase + SCHED_HEADER.TOKEN] = -1;
  M[schedBase + SCHED_HEADER.NTHREADS] = threads;
  M[schedBase + SCHED_HEADER.CAPACITY] = LOG.length;
  forgetThread();
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
  M[schedBase + SCHED_HEADER.CHOOSER] = ch.id;
  M[schedBase + SCHED_HEADER.MAX_STEPS] = maxSteps;
  const spin = o.spin ?? DEFAULT_SPIN;
  M[schedBase + SCHED_HEADER.SPIN] = spin === 'auto' ? SPIN_AUTO : Math.max(0, Math.floor(spin));
  M[schedBase + SCHED_HEADER.SEED] = seed | 0;
  ch.setup({ threads, seed, pctDepth, pctLength, replay: replay?.decisions });
  M[CTL.SCHED + SCHED.MODE] = MODE_CONTROLLED;
  M[CTL.SCHED + SCHED.JITTER_PERMILLE] = 0;
  return { chooser, seed, pctDepth, pctLength, maxSteps, replayLength: replay?.decisions.length ?? 0 };
}

/** Word the main thread waits on (Atomics.waitAsync) for the scheduler's end. */
export function schedEndAddr(): number { return schedBase + SCHED_HEADER.END; }
export function schedEnd(): number { return Atomics.load(M, schedBase + SCHED_HEADER.END); }
export function schedSteps(): number { return M[schedBase + SCHED_HEADER.STEP]; }
export function schedHandoffs(): number { return M[schedBase + SCHED_HEADER.HANDOFFS]; }
export function schedThreads(): number { return M[schedBase + SCHED_HEADER.NTHREADS]; }
export function schedStarted(): number { return Atomics.load(M, schedBase + SCHED_HEADER.STARTED); }

/** The schedule string of the run so far (its decisions). */
export function scheduleString(): string {
  return formatSchedule(M[schedBase + SCHED_HEADER.NTHREADS], LOG.subarray(0, M[schedBase + SCHED_HEADER.STEP]));
}

/**
 * The S2 string of a controlled run outside verify made with model seed `seed`: its decisions, site digest and
 * unscripted fault failures. S1 when a failure lies past what a replay can force (lib/mem/footprint.ts VERIFY_FAULTS).
 */
export function scheduleStringV2(seed: number): string {
  const failed = faultFailures();
  const n = M[schedBase + SCHED_HEADER.NTHREADS], decisions = LOG.subarray(0, M[schedBase + SCHED_HEADER.STEP]);
  return failed ? formatScheduleV2(n, decisions, seed, siteDigest(), failed) : formatSchedule(n, decisions);
}

/**
 * CPUs of a trial whose workers were woken to start it (`woken`, a bit mask: lib/run wakes CPU 0's) or were called
 * in by a handoff (controlled.ts callIn) and that have not reached the scheduler yet.
 */
export function lateArrivals(woken: number): number {
  const n = M[schedBase + SCHED_HEADER.NTHREADS];
  let due = woken | Atomics.load(M, schedBase + SCHED_HEADER.CALLED), late = 0;
  for (let c = 0; c < n && due !== 0; c++, due >>>= 1) {
    if ((due & 1) !== 0 && Atomics.load(M, slot(c) + SCHED_SLOT.STATE) === ST_NOT_STARTED) late++;
  }
  return late;
}

export interface ThreadSchedState { cpu: number; state: (typeof STATE_NAMES)[number]; blockedOn: number; lastSite: number }
export function threadSchedState(c: number): ThreadSchedState {
  const s = slot(c);
  const st = M[s + SCHED_SLOT.STATE];
  return { cpu: c, state: STATE_NAMES[st] ?? 'not-started', blockedOn: st === ST_BLOCKED ? M[s + SCHED_SLOT.ADDR] : 0, lastSite: M[s + SCHED_SLOT.SITE] };
}

/** Human-readable account of a replay divergence (after SCHED_HEADER.END === END_DIVERGED). */
export function divergenceInfo(): { step: number; wanted: number; runnable: number[]; message: string } {
  const step = M[schedBase + SCHED_HEADER.DIV_STEP], wanted = M[schedBase + SCHED_HEADER.DIV_WANT], mask = M[schedBase + SCHED_HEADER.DIV_RUNNABLE];
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

