// One trial: N actors on N simulated CPUs (one pool worker each), free-running or under the controlled scheduler,
// ending in one classified outcome (precedence in outcome.ts). Every wait is bounded: the wall-clock budget always
// applies, and a worker that has not come back within the grace period after STOP is aborted (piscina terminates
// and replaces it; the pool is recreated if replacements do not come), so a campaign always goes on.

import { CTL, M, LAYOUT, attach, type Machine } from '../mem/machine.js';
import { CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';
import {
  prepareControlled, prepareFree, stopAll, schedEnd, schedSteps, scheduleString, divergenceInfo, checkedIn,
  threadSchedState, type ControlledOptions, type FreeOptions,
} from '../sched/controlled.js';
import { END_DEADLOCK, END_HANG, END_DIVERGED } from '../sched/state.js';
import { ScheduleDivergence } from '../sched/schedule.js';
import type { ChooserName } from '../sched/choosers/index.js';
import { clearOutcome, readOutcome } from './outcome.js';
import { snapshotWaits, findCycle, describeCycle, describeStuck, type LockNamer } from './waitfor.js';
import { Watchdog, type Verdict } from './watchdog.js';
import type { TrialPool } from './pool.js';
import type { ActorSpec, RunMode, ThreadResult, ThreadTask } from './task.js';

export interface TrialOptions extends ControlledOptions, FreeOptions {
  /** Default 'free'. */
  mode?: RunMode;
  /** Wall-clock budget of the whole trial (ms, default 10 000): past it, the trial ends as a hang. */
  budgetMs?: number;
  /** After STOP, how long a worker may take to come back before it is aborted (ms, default 1000). */
  graceMs?: number;
  /** How long all tasks may take to reach the start barrier (ms, default 10 000: covers cold workers). */
  startTimeoutMs?: number;
  /** Free mode: watchdog sampling period (ms, default 5). */
  sampleMs?: number;
  /** Free mode: no progress for this long (and no cycle) is a hang (ms, default 2000). */
  hangMs?: number;
  /** Names for lock addresses in deadlock / hang reports. */
  lockName?: LockNamer;
}

export interface TrialResult {
  outcome: Outcome;
  mode: RunMode;
  /** The outcome came from a thread's ModelCrash. */
  crash?: { kind: Outcome; cpu: number; where: string; message: string };
  deadlock?: { cycle: string; cpus: number[] };
  hang?: { reason: 'step-budget' | 'no-progress' | 'wall-clock'; detail: string };
  /** Controlled mode: the schedule string (replays this run), decisions made, chooser settings. */
  schedule?: string;
  steps?: number;
  chooser?: ChooserName;
  seed?: number;
  threads: ThreadResult[];
  /** Tasks aborted because they did not come back after STOP (their workers were replaced). */
  aborted: number;
  durationMs: number;
}

/** The trial could not run as a trial: actors that fail to load or throw lab errors, CPUs that never started. */
export class TrialError extends Error {
  constructor(message: string, readonly threads: ThreadResult[]) { super(message); this.name = 'TrialError'; }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function attachMain(machine: Machine): void {
  if (LAYOUT !== machine.layout || M.buffer !== machine.sab) attach(machine, 0);
}

export async function runTrial(pool: TrialPool, machine: Machine, actors: readonly ActorSpec[], opts: TrialOptions = {}): Promise<TrialResult> {
  const n = actors.length;
  if (n < 1) throw new RangeError('a trial needs at least one actor');
  if (n > pool.threads) throw new RangeError(`${n} actors but the pool has ${pool.threads} worker threads`);
  if (n > machine.layout.threads) throw new RangeError(`${n} actors but the machine has ${machine.layout.threads} CPUs`);
  const mode: RunMode = opts.mode ?? 'free';
  const budgetMs = opts.budgetMs ?? 10_000, graceMs = opts.graceMs ?? 1000;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000, sampleMs = opts.sampleMs ?? 5, hangMs = opts.hangMs ?? 2000;

  attachMain(machine);
  Atomics.store(M, CTL.STOP, 0);
  Atomics.store(M, CTL.THREADS_DONE, 0);
  clearOutcome();
  let settings: ReturnType<typeof prepareControlled> | undefined;
  if (mode === 'controlled') {
    settings = prepareControlled(n, { ...opts, pctLength: opts.pctLength ?? (pool.stepEstimate || 100) });
  } else {
    prepareFree(n, opts);
  }

  const t0 = performance.now();
  const results: Array<ThreadResult | undefined> = Array.from({ length: n }, () => undefined);
  const controllers = actors.map(() => new AbortController());
  let settled = 0;
  let poke: () => void = () => {};
  const tasks = actors.map((a, cpu) => {
    const task: ThreadTask = {
      machine: { sab: machine.sab, layout: machine.layout, meta: machine.meta }, cpu, module: a.module, export: a.export, arg: a.arg,
      mode, threads: n, startTimeoutMs,
    };
    return pool.run(task, controllers[cpu].signal).then(
      (r) => r,
      (e: unknown): ThreadResult => ({
        cpu, status: controllers[cpu].signal.aborted ? 'aborted' : 'error', lockdep: [], workerId: -1, ms: 0,
        error: (e as Error)?.message ?? String(e),
      }),
    ).then((r) => { results[cpu] = r; settled++; poke(); });
  });

  let verdict: Verdict | undefined;
  let diverged: ReturnType<typeof divergenceInfo> | undefined;
  let startFailure: string | undefined;
  let stopAt = -1, aborted = 0;
  const watchdog = mode === 'free' ? new Watchdog(hangMs, 0, opts.lockName) : undefined;
  const stop = (): void => { stopAll(); stopAt = performance.now() - t0; };
  const running = (): number[] => results.flatMap((r, c) => (r === undefined ? [c] : []));
  const all = actors.map((_, c) => c);
  // CPUs still in the run: controlled, the scheduler knows (a task's result may still be in flight to us)
  const live = (): number[] => (settings ? all.filter((c) => threadSchedState(c).state !== 'done') : running());
  const stuck = (): string => describeStuck(snapshotWaits(all, (c) => (settings ? threadSchedState(c).blockedOn : 0)), opts.lockName, live());

  while (settled < n) {
    const now = performance.now() - t0;
    if (stopAt < 0 && Atomics.load(M, CTL.STOP) !== 0) stopAt = now; // a thread stopped the trial (crash)
    if (stopAt < 0) {
      if (mode === 'controlled') {
        const end = schedEnd();
        if (end === END_DEADLOCK) {
          const snap = snapshotWaits(all, (c) => threadSchedState(c).blockedOn);
          const cycle = findCycle(snap);
          verdict = cycle
            ? { kind: 'deadlock', cycle: describeCycle(cycle, opts.lockName), cpus: cycle.map((w) => w.cpu) }
            : { kind: 'deadlock', cycle: `every thread is blocked, no cycle: ${stuck()}`, cpus: live() };
          stop();
        } else if (end === END_HANG) {
          verdict = { kind: 'hang', reason: 'step-budget', detail: `more than ${settings!.maxSteps} scheduling decisions: ${stuck()}` };
          stop();
        } else if (end === END_DIVERGED) {
          diverged = divergenceInfo();
          stop();
        }
      } else if (checkedIn() >= n) {
        verdict = watchdog!.sample(now, all, running());
        if (verdict) stop();
      }
      if (stopAt < 0 && checkedIn() < n && now > startTimeoutMs + 500) {
        startFailure = `only ${checkedIn()} of ${n} CPUs started within ${startTimeoutMs} ms`;
        stop();
      }
      if (stopAt < 0 && now > budgetMs) {
        if (checkedIn() < n) startFailure = `only ${checkedIn()} of ${n} CPUs started within the trial's ${budgetMs} ms budget`;
        else verdict = { kind: 'hang', reason: 'wall-clock', detail: `trial exceeded its ${budgetMs} ms budget: ${stuck()}` };
        stop();
      }
    } else if (now - stopAt > graceMs) {
      for (const c of running()) { controllers[c].abort(new Error(`cpu${c} did not stop within ${graceMs} ms`)); aborted++; }
      break;
    }
    const woke = new Promise<void>((r) => { poke = r; });
    await Promise.race([woke, sleep(mode === 'controlled' ? 2 : sampleMs)]);
  }
  await Promise.all(tasks);
  const durationMs = performance.now() - t0;
  if (aborted > 0) {
    pool.replacedWorkers += aborted;
    await pool.recover();
  }
  const threads = results as ThreadResult[];

  const steps = settings ? schedSteps() : undefined;
  const schedule = settings ? scheduleString() : undefined;
  if (!diverged && settings?.chooser === 'replay' && verdict?.kind !== 'hang' && steps! < settings.replayLength) {
    diverged = {
      step: steps!, wanted: -1, runnable: [],
      message: `replay diverged: the run ended after ${steps} decisions but the schedule has ${settings.replayLength}`,
    };
  }
  if (diverged) throw new ScheduleDivergence(diverged.message, diverged.step, diverged.wanted, diverged.runnable);
  if (startFailure) throw new TrialError(`${startFailure}: the pool could not run the trial's CPUs concurrently`, threads);
  const errors = threads.filter((t) => t.status === 'error' || t.status === 'start-timeout');
  if (errors.length > 0) throw new TrialError(errors.map((t) => `cpu${t.cpu}: ${t.error}`).join('; '), threads);

  const recorded = readOutcome();
  const out: TrialResult = { outcome: 'ok', mode, threads, aborted, durationMs };
  if (recorded) {
    out.outcome = recorded.outcome;
    const t = threads[recorded.cpu];
    if (CRASH_OUTCOMES.has(recorded.outcome) || t?.crash) {
      out.crash = { kind: recorded.outcome, cpu: recorded.cpu, where: t?.crash?.where ?? '?', message: t?.crash?.message ?? '' };
    }
  } else if (verdict?.kind === 'deadlock') {
    out.outcome = 'deadlock';
    out.deadlock = { cycle: verdict.cycle, cpus: verdict.cpus };
  } else if (verdict?.kind === 'hang') {
    out.outcome = 'hang';
    out.hang = { reason: verdict.reason, detail: verdict.detail };
  }
  if (settings) {
    out.schedule = schedule;
    out.steps = steps;
    out.chooser = settings.chooser;
    out.seed = settings.seed;
    if (out.outcome !== 'hang' && steps) pool.stepEstimate = steps;
  }
  return out;
}

