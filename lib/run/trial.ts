// One trial's lifecycle: N actors on N simulated CPUs (one pool worker each), driven by the mode's driver
// (drivers.ts: free-running or controlled), ending in one classified outcome (precedence in outcome.ts). Every wait is bounded: the wall-clock budget always
// applies, and a worker that has not come back within the grace period after STOP is aborted (the pool terminates
// and replaces its worker; the pool is recreated if replacements do not come), so a campaign always goes on.

import { CTL, M, LAYOUT, attach, type Machine } from '../mem/machine.js';
import { CRASH_OUTCOMES } from '../mem/crash.js';
import { stopAll, checkedIn, setArriveBell, lateArrivals } from '../sched/index.js';
import { clearOutcome, readOutcome } from './outcome.js';
import type { Verdict } from './watchdog.js';
import { freeDriver, controlledDriver, type ModeDriver } from './drivers.js';
import { WORKER_MAX_AGE_MS, TaskAbort, type TrialPool } from './pool.js';
import { startClock } from './start-clock.js';
import type { ActorSpec, RunMode, ThreadResult, ThreadTask, TrialOptions, TrialResult } from './task.js';

export type { TrialOptions, TrialResult } from './task.js';

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
  const maxAge = opts.maxWorkerAgeMs ?? WORKER_MAX_AGE_MS;
  if (pool.due(maxAge)) await pool.refresh(maxAge);
  attachMain(machine);
  Atomics.store(M, CTL.STOP, 0);
  Atomics.store(M, CTL.THREADS_DONE, 0);
  clearOutcome();
  const driver = (opts.mode ?? 'free') === 'controlled' ? controlledDriver(n, opts, pool.stepEstimate) : freeDriver(n, opts);
  // A controlled trial is a short chain of handoffs with nothing for the main thread to do meanwhile: it waits on the
  // pool's bell and takes the results off the ports itself (a verify run cost ~100 µs of promises, timers and
  // event-loop turns per CPU otherwise). Free-running trials sample their CPUs on the event loop.
  const sync = driver.mode === 'controlled' ? pool : undefined;
  if (sync) setArriveBell(pool.callIn); // this thread's stopAll calls in the CPUs not woken yet, to stop them
  const run = startTasks(pool, machine, actors, driver.mode, opts.startTimeoutMs ?? 10_000, sync !== undefined);
  const { verdict, startFailure, aborted } = await watch(run, driver, opts, sync);
  if (run.tasks.length > 0) await Promise.all(run.tasks);
  const durationMs = performance.now() - run.t0;
  if (aborted > 0) {
    pool.replacedWorkers += aborted;
    await pool.recover();
  }
  const threads = run.results as ThreadResult[];
  const out = assemble(threads, verdict, driver.mode, aborted, durationMs);
  driver.finish(out, verdict?.kind === 'hang');
  if (startFailure) throw new TrialError(`${startFailure}: the pool could not run the trial's CPUs concurrently`, threads);
  const errors = threads.filter((t) => t.status === 'error' || t.status === 'start-timeout');
  if (errors.length > 0) throw new TrialError(errors.map((t) => `cpu${t.cpu}: ${t.error}`).join('; '), threads);
  if (driver.mode === 'controlled' && out.outcome !== 'hang' && out.steps) pool.stepEstimate = out.steps;
  return out;
}

interface Running {
  t0: number;
  tasks: Promise<void>[];
  results: Array<ThreadResult | undefined>;
  controllers: TaskAbort[];
  settled: () => number;
  /** Resolves the lifecycle's current wait as soon as a task comes back. */
  onSettle: (fn: () => void) => void;
  /** CPUs that should have started by now and have not. */
  late: () => number;
}

/**
 * One pool task per CPU; results land in `results` as they come back: through promises, or (sync) through the
 * pool's callbacks, which run when the lifecycle pumps the ports. A synchronous (controlled) trial wakes the
 * worker of CPU 0 only, which makes the first decision; the scheduler wakes each other CPU's worker when it first
 * picks that CPU (lib/sched callIn). Woken all at once, every CPU but the first to arrive parked at once and was
 * woken again: two context switches and a wait and wake each, per run, on the single core a verify child has.
 */
function startTasks(pool: TrialPool, machine: Machine, actors: readonly ActorSpec[], mode: RunMode, startTimeoutMs: number, sync: boolean): Running {
  const n = actors.length;
  const results: Array<ThreadResult | undefined> = new Array<ThreadResult | undefined>(n).fill(undefined);
  const controllers = actors.map(() => new TaskAbort());
  let settled = 0;
  let poke: () => void = () => {};
  const settle = (cpu: number, r: ThreadResult): void => { results[cpu] = r; settled++; poke(); };
  const failed = (cpu: number, e: unknown): ThreadResult => ({
    cpu, status: controllers[cpu].aborted ? 'aborted' : 'error', lockdep: [], workerId: -1, ms: 0,
    error: (e as Error)?.message ?? String(e),
  });
  const tasks: Promise<void>[] = [];
  if (sync) pool.expectResults(n);
  actors.forEach((a, cpu) => {
    const task: ThreadTask = {
      machine: { sab: machine.sab, layout: machine.layout, meta: machine.meta }, cpu, module: a.module, export: a.export, arg: a.arg,
      mode, threads: n, startTimeoutMs: Math.max(startTimeoutMs, WORKER_START_BACKUP_MS),
    };
    if (sync) pool.submit(task, controllers[cpu], (r) => settle(cpu, r), (e) => settle(cpu, failed(cpu, e)), true, false);
    else tasks.push(pool.run(task, controllers[cpu]).then((r) => settle(cpu, r), (e: unknown) => settle(cpu, failed(cpu, e))));
  });
  // Woken once every task is in place: CPU 0 may call any other in at once.
  if (sync && pool.lazyStart) pool.callIn(0);
  const late = sync && pool.lazyStart ? () => lateArrivals(1) : () => n - checkedIn();
  return { t0: performance.now(), tasks, results, controllers, settled: () => settled, onSettle: (fn) => { poke = fn; }, late };
}

/**
 * A free-running CPU's own wait at the start barrier (lib/sched/barrier.ts) gives up after this long at the least.
 * The main thread judges the start (watch: in could-run time, start-clock.ts) and stops the trial, which ends that
 * wait; a wall-clock deadline of the trial's own would fire first on a crowded machine.
 */
const WORKER_START_BACKUP_MS = 120_000;
/** How long a trial may take to start before its start is watched at all (a start is usually well under 1 ms). */
const SETTLE_MS = 100;

/**
 * A synchronous lifecycle still gives the event loop a turn this often (signals, IPC, timers, worker events),
 * counted across trials: a campaign's trials are mostly far shorter than this, and a count per trial let a whole
 * verify or explore run by without one turn (Ctrl-C and SIGTERM were handled only when it had finished).
 */
const TURN_MS = 10;
/** When the event loop last had a turn from a synchronous lifecycle. */
let turnedAt = 0;
async function turnIfDue(): Promise<void> {
  if (performance.now() - turnedAt <= TURN_MS) return;
  await new Promise((r) => setImmediate(r));
  turnedAt = performance.now();
}

/**
 * Wait for every task, stopping the trial when the driver finds a reason, a CPU never starts, or the wall-clock
 * budget (from the start) runs out; after a stop, a task that does not come back within the grace period is aborted.
 */
async function watch(run: Running, driver: ModeDriver, opts: TrialOptions, sync?: TrialPool): Promise<{ verdict?: Verdict; startFailure?: string; aborted: number }> {
  const n = run.results.length;
  const budgetMs = opts.budgetMs ?? 10_000, graceMs = opts.graceMs ?? 1000, startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  let verdict: Verdict | undefined, startFailure: string | undefined;
  let stopAt = -1, aborted = 0;
  // A trial still starting after SETTLE_MS has its start judged in could-run time (counted from then, the first
  // SETTLE_MS as wall time), and its budget, like the free-running watchdog, counts from the moment no CPU is late
  // (the model's run, not the pool's start). A trial that started by then costs none of it (verify: ~0.2 ms a run).
  let clock: ReturnType<typeof startClock> | undefined;
  let startedAt = -1;
  const stop = (): void => { stopAll(); stopAt = performance.now() - run.t0; };
  const running = (): number[] => run.results.flatMap((r, c) => (r === undefined ? [c] : []));
  for (;;) {
    const seen = sync ? sync.bell() : 0; // read before pumping: a result posted after it rings the bell again
    sync?.pump();
    if (run.settled() >= n) break;
    const now = performance.now() - run.t0;
    if (stopAt < 0 && Atomics.load(M, CTL.STOP) !== 0) stopAt = now; // a thread stopped the trial (crash)
    if (stopAt < 0) {
      verdict = driver.poll(now, running);
      const late = now > SETTLE_MS ? run.late() : 0;
      if (startedAt < 0 && now > SETTLE_MS && late === 0) startedAt = clock ? now : 0;
      if (late > 0) clock ??= startClock();
      if (verdict) stop();
      else if (late > 0 && SETTLE_MS + clock!.ms() > startTimeoutMs + 500) {
        startFailure = `only ${checkedIn()} of ${n} CPUs started within ${startTimeoutMs} ms (of the cores' share they could have, in ${Math.round(now)} ms)`;
        stop();
      } else if (now > SETTLE_MS && startedAt >= 0 && now - startedAt > budgetMs) {
        if (late > 0) startFailure = `only ${checkedIn()} of ${n} CPUs started within the trial's ${budgetMs} ms budget`;
        else verdict = { kind: 'hang', reason: 'wall-clock', detail: `trial exceeded its ${budgetMs} ms budget: ${driver.stuck(running())}` };
        stop();
      }
    } else if (now - stopAt > graceMs) {
      for (const c of running()) { run.controllers[c].abort(new Error(`cpu${c} did not stop within ${graceMs} ms`)); aborted++; }
      break;
    }
    if (sync) {
      sync.waitBell(seen, driver.pollMs);
      await turnIfDue();
      continue;
    }
    const woke = new Promise<void>((r) => { run.onSettle(r); });
    await Promise.race([woke, sleep(driver.pollMs)]);
  }
  if (sync) await turnIfDue();
  return { verdict, startFailure, aborted };
}

/** The trial's outcome: a recorded crash or outcome first, then the verdict that stopped it, else ok. */
function assemble(threads: ThreadResult[], verdict: Verdict | undefined, mode: RunMode, aborted: number, durationMs: number): TrialResult {
  const recorded = readOutcome();
  // Every field from the start, whatever the outcome: one shape for every trial's result, so the code reading it
  // (classify, verify, repro) stays optimised when a run first crashes, deadlocks or hangs.
  const out: TrialResult = {
    outcome: 'ok', mode, crash: undefined, deadlock: undefined, hang: undefined, schedule: undefined, steps: undefined, chooser: undefined, seed: undefined,
    threads, aborted, durationMs,
  };
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
  return out;
}
