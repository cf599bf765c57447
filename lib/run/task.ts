// The runner's data: a trial's options and result, and what it sends to a worker (workers/thread.ts) for one
// simulated CPU and gets back.

import type { Machine } from '../mem/machine.js';
import type { Outcome } from '../mem/crash.js';
import type { ControlledOptions, FreeOptions } from '../sched/index.js';
import type { ChooserName } from '../sched/choosers/index.js';
import type { LockNamer } from './waitfor.js';
import type { MessagePort } from 'node:worker_threads';

export type RunMode = 'free' | 'controlled';

/** What a pool worker's run loop (workers/loop.ts) is started with (lib/run/pool.ts). */
export interface LoopData {
  /** The pool's control words: the bell's line. */
  ctl: Int32Array;
  /** The pool's bell (lib/run/pool.ts): rung after each result is posted and when a controlled run ends. */
  bell: number;
  /** This worker's doorbell: a word of `ctl` (its lane's line there, ctlDoorbell), bumped and woken for each task. */
  doorbell: number;
  /** This worker's own words (LANE_*, lib/run/lane.ts), in a buffer of its own: a replacement worker never shares them. */
  lane: SharedArrayBuffer;
  /** The task module is the lab's thread module: a common ThreadResult may come back through `lane` (LANE_RESULTS). */
  compact: boolean;
  port: MessagePort;
  /** URL of the task module: its default export runs each task. */
  filename: string;
  /** The main thread wakes this word with futex (else Atomics.notify). */
  futex: boolean;
}

/** Words of the pool's bell line after the bell itself (lib/run/pool.ts): someone sleeps on it; results still awaited. */
export const BELL_WAITING = 1, BELL_REMAINING = 2;

/**
 * The pool's control words (ctl), in 64-byte lines: line 0 the bell; line 1 CTL_LANE_OF, by CPU, 1 + the lane
 * whose task for that CPU was started without a wake (0: woken at once; lib/sched calls such a CPU in when it is
 * first picked, lane.ts callLane); then one line per lane for its doorbell (ctlDoorbell), which the main thread
 * bumps (and wakes) for every task and which the lane's worker sleeps on between tasks.
 */
export const CTL_LANE_OF = 16;
export const ctlDoorbell = (lane: number): number => 32 + 16 * lane;
export const ctlWords = (lanes: number): number => ctlDoorbell(lanes);

/**
 * A lane's words (lib/run/pool.ts, workers/loop.ts; the result words: lib/run/lane.ts). REPEATS: tasks started
 * without a message, each the worker's previous task again. SYNC:
 * this task's main thread pumps results (pool.pump), so a common result may come back as words. RESULTS: results
 * published as words. POSTED: results posted as messages.
 */
export const LANE_REPEATS = 1, LANE_SYNC = 2, LANE_RESULTS = 3, LANE_POSTED = 4;

/** What the worker posts back: the task's result, or what it threw. */
export type LoopReply = { ok: true; result: unknown } | { ok: false; name: string; message: string; stack?: string };

/** One actor of a trial: a function exported by an ES module, called on one simulated CPU. */
export interface ActorSpec {
  /** file: URL (or absolute path) of the module. */
  module: string;
  /** Name of the exported function (`default` for the default export). */
  export: string;
  /** Passed to the actor; must be structured-clonable. */
  arg?: unknown;
}

export interface ActorContext { cpu: number; arg: unknown }
export type Actor = (ctx: ActorContext) => unknown;

/** ThreadTask.machine as sent when it is the one this worker was sent last (lib/run/pool.ts slim). */
export const SAME_MACHINE = null as unknown as Machine;

export interface ThreadTask {
  /** SAME_MACHINE (null) on the wire when unchanged since this worker's last task. */
  machine: Machine;
  cpu: number;
  module: string;
  export: string;
  arg: unknown;
  mode: RunMode;
  /** CPUs in this trial: the start barrier waits for all of them. */
  threads: number;
  startTimeoutMs: number;
}

export type ThreadStatus = 'done' | 'crash' | 'stopped' | 'error' | 'start-timeout' | 'aborted';

import type { LockHistogramPairs } from '../sync/profile.js';

export interface ThreadResult {
  cpu: number;
  status: ThreadStatus;
  /** What the actor returned (status 'done'). */
  value?: unknown;
  /** status 'crash': the ModelCrash. */
  crash?: { kind: Outcome; where: string; message: string };
  /** status 'error' / 'aborted' / 'start-timeout': what went wrong (a lab bug, not a model outcome). */
  error?: string;
  /** status 'error' caused by the actor's own code (a scenario's bug), as one line: see workers/scenario-actor.ts. */
  fault?: string;
  /** lib/sync/lockdep reports made on this CPU during the trial. */
  lockdep: Array<{ cpu: number; message: string }>;
  /** With lock profiling on: this CPU's wait and hold histograms per lock class (lib/sync/profile.ts). */
  lockHist?: LockHistogramPairs;
  /** worker_threads threadId of the worker that ran it (-1 if none answered). */
  workerId: number;
  /** Time inside the worker, ms. */
  ms: number;
}

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
  /** Workers older than this are replaced before the trial starts (ms, default WORKER_MAX_AGE_MS; Infinity: never). */
  maxWorkerAgeMs?: number;
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
