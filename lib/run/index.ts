// lib/run: the trial runner (a warm worker pool, one thread per simulated CPU), the free-running watchdog, the
// wait-for graph, and the trial outcome in the control block.
export { runTrial, TrialError, type TrialOptions, type TrialResult } from './trial.js';
export { TrialPool, createPool, THREAD_WORKER_URL, WORKER_MAX_AGE_MS, type PoolOptions } from './pool.js';
export { recordOutcome, readOutcome, clearOutcome, classifyAfter } from './outcome.js';
export { Watchdog, type Verdict } from './watchdog.js';
export { snapshotWaits, findCycle, describeCycle, describeStuck, lockInfo, lockLabel, holdersOf, type CpuWait, type LockNamer } from './waitfor.js';
export type { ActorSpec, Actor, ActorContext, RunMode, ThreadTask, ThreadResult, ThreadStatus } from './task.js';
