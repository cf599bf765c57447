// A simulated CPU: the body of one pool worker task (lib/run/pool.ts). It attaches the trial's machine, loads the
// actor's module (cached per worker), waits at the start barrier until every CPU of the trial is running, then
// runs the actor, free-running or under the controlled scheduler. A ModelCrash is the trial's outcome, never an
// exception that escapes: it is recorded in the control block (first one wins) and stops the trial.

import { threadId } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { attach, stopped, CTL, M } from '../lib/mem/machine.js';
import { outcomeCode, type Outcome } from '../lib/mem/crash.js';
import { schedThreadStart, schedThreadDone, stopAll, startBarrier, checkIn } from '../lib/sched/index.js';
import { recordOutcome } from '../lib/run/outcome.js';
import { lockdepReports, clearLockdepReports } from '../lib/sync/index.js';
import { takeLockHistograms } from '../lib/sync/profile.js';
import { record, EV } from '../lib/trace/recorder.js';
import { loadStrategy, installStrategy, patchThrew } from '../lib/strategy/index.js';
import { SAME_MACHINE, type Actor, type ThreadResult, type ThreadTask } from '../lib/run/task.js';

export type { ThreadTask, ThreadResult };

const modules = new Map<string, Promise<Record<string, unknown>>>();
/** Modules loaded, by the task's spec, and strategies loaded: a campaign's run takes them without a wait. */
const ready = new Map<string, Record<string, unknown>>();
const strategies = new Set<string>();
let lastMachine: ThreadTask['machine'] | undefined;
/** The strategy this worker installed last: only installStrategy changes the model's table, so again is a no-op. */
let installed: string | undefined;

function load(spec: string): Promise<Record<string, unknown>> {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(spec) ? spec : pathToFileURL(spec).href;
  let p = modules.get(url);
  if (!p) {
    p = import(url) as Promise<Record<string, unknown>>;
    modules.set(url, p);
    p.catch(() => modules.delete(url));
  }
  return p;
}

// Duck-typed: an actor module may have been loaded from another copy of lib/ than this worker's.
const isCrash = (e: unknown): e is { kind: Outcome; where: string; message: string } =>
  (e as Error | undefined)?.name === 'ModelCrash' && typeof (e as { kind?: unknown }).kind === 'string';
const isStopped = (e: unknown): boolean => (e as Error | undefined)?.name === 'TrialStopped';
const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === 'function';

export default async function thread(task: ThreadTask): Promise<ThreadResult> {
  const t0 = performance.now();
  const { cpu } = task;
  // The pool sends a trial's machine only when it is not the one this worker was sent last (pool.ts slim).
  if (task.machine === SAME_MACHINE) {
    if (!lastMachine) return { cpu, status: 'error', error: 'lab error: a task without a machine reached a worker that has none', lockdep: [], workerId: threadId, ms: 0 };
    task.machine = lastMachine;
  }
  lastMachine = task.machine;
  attach(task.machine, cpu);
  clearLockdepReports();
  // Lock timing under the controlled scheduler measures token handoffs, not contention: only free runs ship it.
  const result = (status: ThreadResult['status'], extra: Partial<ThreadResult> = {}): ThreadResult =>
    ({ cpu, status, lockdep: [...lockdepReports()], lockHist: task.mode === 'free' ? takeLockHistograms() : undefined, workerId: threadId, ms: performance.now() - t0, ...extra });

  let actor: Actor;
  try {
    let mod = ready.get(task.module);
    if (!mod) { mod = await load(task.module); ready.set(task.module, mod); }
    const f = mod[task.export];
    if (typeof f !== 'function') throw new Error(`module ${task.module} exports no function '${task.export}'`);
    actor = f as Actor;
    // The model this machine runs: its generation with the strategy's patches (a patch file loads here too).
    const strategy = task.machine.meta.strategy;
    if (strategy) {
      if (!strategies.has(strategy)) { await loadStrategy(strategy); strategies.add(strategy); }
      if (strategy !== installed) { installed = undefined; installStrategy(strategy); installed = strategy; }
    }
  } catch (e) {
    stopAll();
    return result('error', { error: `cannot load actor: ${(e as Error)?.message ?? String(e)}` });
  }

  const start = task.mode === 'controlled' ? (checkIn(), 'ok') : startBarrier(task.threads, task.startTimeoutMs);
  if (start === 'stopped') return result('stopped');
  if (start === 'timeout') { stopAll(); return result('start-timeout', { error: `cpu${cpu}: not every CPU of the trial started within ${task.startTimeoutMs} ms` }); }

  try {
    if (task.mode === 'controlled') schedThreadStart(cpu);
    // A campaign's actor returns at once (workers/scenario-actor.ts): no wait for it.
    let value = actor({ cpu, arg: task.arg });
    if (isThenable(value)) value = await value;
    record(EV.DONE);
    Atomics.add(M, CTL.THREADS_DONE, 1);
    if (task.mode === 'controlled') schedThreadDone();
    return result('done', { value });
  } catch (e) {
    if (isCrash(e)) {
      record(EV.CRASH, outcomeCode(e.kind));
      if (!stopped()) recordOutcome(e.kind, cpu); // a crash while unwinding a stopped trial is an artefact
      stopAll();
      return result('crash', { crash: { kind: e.kind, where: e.where, message: e.message } });
    }
    if (isStopped(e)) return result('stopped');
    stopAll();
    // A scenario's own mistake (workers/scenario-actor.ts) is one line for its author, not a lab stack trace.
    if ((e as Error | undefined)?.name === 'ScenarioFault') return result('error', { error: (e as Error).message, fault: (e as Error).message });
    // So is the C backend reaching a function the lab does not supply (lib/cxen/not-supplied.ts): the lab's error,
    // which cannot happen in Xen, so no outcome and no verdict.
    if ((e as Error | undefined)?.name === 'NotSupplied') {
      const why = `${(e as Error).message} under strategy ${task.machine.meta.strategy ?? '?'}; no verdict`;
      return result('error', { error: why, fault: why });
    }
    // So is a patch file's own JavaScript error (any workload: stress's vCPUs too), named at the patch's line.
    const patch = patchThrew(e, `on cpu${cpu}`);
    if (patch) return result('error', { error: patch, fault: patch });
    return result('error', { error: `actor ${task.export} threw: ${(e as Error)?.stack ?? String(e)}` });
  }
}
