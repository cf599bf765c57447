// What the runner sends to a worker (workers/thread.ts) for one simulated CPU, and what comes back.

import type { Machine } from '../mem/machine.js';
import type { Outcome } from '../mem/crash.js';

export type RunMode = 'free' | 'controlled';

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

export interface ThreadTask {
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
  /** worker_threads threadId of the worker that ran it (-1 if none answered). */
  workerId: number;
  /** Time inside the worker, ms. */
  ms: number;
}
