// What differs between the two ways a trial runs, behind one interface the shared lifecycle (trial.ts) drives:
// free-running (the OS schedules; the watchdog looks for deadlock cycles and lack of progress) and controlled (the
// scheduler decides every step; it ends the run itself on deadlock, step budget or divergence).

import {
  prepareControlled, prepareFree, schedEnd, schedSteps, scheduleString, divergenceInfo, checkedIn, threadSchedState,
  type ControlledSettings, type ControlledOptions,
} from '../sched/index.js';
import { END_DEADLOCK, END_HANG, END_DIVERGED } from '../sched/state.js';
import { ScheduleDivergence } from '../sched/schedule.js';
import { snapshotWaits, findCycle, describeCycle, describeStuck } from './waitfor.js';
import { Watchdog, type Verdict } from './watchdog.js';
import type { RunMode, TrialOptions, TrialResult } from './task.js';

export interface ModeDriver {
  readonly mode: RunMode;
  /** How often the lifecycle polls while the trial runs (ms). */
  readonly pollMs: number;
  /** A reason to stop the trial now, if there is one (`running`: CPUs whose task has not come back; a controlled
   * trial polls every few ms and does not ask). */
  poll(now: number, running: () => readonly number[]): Verdict | undefined;
  /** What each CPU that is still in the run waits for, for hang reports. */
  stuck(running: readonly number[]): string;
  /** Once every task is back: throw if the run was not the one asked for; add this mode's fields. */
  finish(out: TrialResult, hung: boolean): void;
}

/** 0 .. n-1 (Array.from with a length object takes V8's slow path: a controlled run makes two of these). */
function cpus(n: number): number[] {
  const all: number[] = [];
  for (let c = 0; c < n; c++) all.push(c);
  return all;
}

export function freeDriver(n: number, opts: TrialOptions): ModeDriver {
  prepareFree(n, opts);
  const all = cpus(n);
  // The no-progress clock starts once every CPU is past the start barrier: a cold pool may take seconds to get
  // there, and that is not the model hanging.
  let watchdog: Watchdog | undefined;
  return {
    mode: 'free',
    pollMs: opts.sampleMs ?? 5,
    poll(now, running) {
      if (checkedIn() < n) return undefined;
      watchdog ??= new Watchdog(opts.hangMs ?? 2000, now, opts.lockName);
      return watchdog.sample(now, all, running());
    },
    stuck: (running) => describeStuck(snapshotWaits(all), opts.lockName, running),
    finish: () => {},
  };
}

export function controlledDriver(n: number, opts: TrialOptions, stepEstimate: number): ModeDriver & { settings: ControlledSettings } {
  // The scheduler's options, named one by one (spreading a trial's options per run was 1.5% of a verify run's main
  // thread); the type makes a new ControlledOptions field an error here until it is passed on.
  const o: { [K in keyof Required<ControlledOptions>]: ControlledOptions[K] } = {
    chooser: opts.chooser, seed: opts.seed, pctDepth: opts.pctDepth, pctLength: opts.pctLength ?? (stepEstimate || 100),
    schedule: opts.schedule, maxSteps: opts.maxSteps, spin: opts.spin,
  };
  const settings = prepareControlled(n, o);
  const all = cpus(n);
  // The scheduler knows who is still in the run (a task's result may still be in flight to the main thread).
  const live = (): number[] => all.filter((c) => threadSchedState(c).state !== 'done');
  const waits = () => snapshotWaits(all, (c) => threadSchedState(c).blockedOn);
  const stuck = (): string => describeStuck(waits(), opts.lockName, live());
  let diverged: ReturnType<typeof divergenceInfo> | undefined;
  return {
    mode: 'controlled',
    pollMs: 2,
    settings,
    stuck,
    poll() {
      const end = schedEnd();
      if (end === END_DEADLOCK) {
        const cycle = findCycle(waits());
        return cycle
          ? { kind: 'deadlock', cycle: describeCycle(cycle, opts.lockName), cpus: cycle.map((w) => w.cpu) }
          : { kind: 'deadlock', cycle: `every thread is blocked, no cycle: ${stuck()}`, cpus: live() };
      }
      if (end === END_HANG) return { kind: 'hang', reason: 'step-budget', detail: `more than ${settings.maxSteps} scheduling decisions: ${stuck()}` };
      if (end === END_DIVERGED) { diverged = divergenceInfo(); return { kind: 'diverged' }; }
      return undefined;
    },
    finish(out, hung) {
      const steps = schedSteps();
      if (!diverged && settings.chooser === 'replay' && !hung && steps < settings.replayLength) {
        diverged = { step: steps, wanted: -1, runnable: [], message: `replay diverged: the run ended after ${steps} decisions but the schedule has ${settings.replayLength}` };
      }
      if (diverged) throw new ScheduleDivergence(diverged.message, diverged.step, diverged.wanted, diverged.runnable);
      out.schedule = scheduleString();
      out.steps = steps;
      out.chooser = settings.chooser;
      out.seed = settings.seed;
    },
  };
}
