// What a pool worker is sent for a task (lib/run/pool.ts): as little as it does not already have, and how a task
// is aborted.

import { SAME_MACHINE, type ThreadTask } from './task.js';

/**
 * A task's abort switch without EventTarget: a trial's CPUs start and end thousands of times a second, and an
 * AbortController with its listener added and removed per task was 6% of a verify run's main thread.
 */
export class TaskAbort {
  aborted = false;
  reason: unknown;
  /** Set by the pool while the task runs. */
  onabort?: () => void;
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.onabort?.();
  }
}

/** How a task is aborted: an AbortSignal, or a TaskAbort. */
export type TaskSignal = AbortSignal | TaskAbort;

/** What a lane's worker was last sent of a trial's machine, and the task it came with (sync tasks). */
export interface Sent { sab: SharedArrayBuffer; layout: object; meta: Readonly<Record<string, string>>; task?: ThreadTask }

/** Equal own keys holding the same values (===): the same actor argument, rebuilt for another run. */
function sameArg(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  const ka = Object.keys(a), ob = b as Record<string, unknown>, oa = a as Record<string, unknown>;
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (oa[k] !== ob[k] || !(k in ob)) return false;
  return true;
}

/** The same task but for its machine object and argument object (compared by sameArg). */
const sameTask = (a: ThreadTask, b: ThreadTask): boolean =>
  a.cpu === b.cpu && a.module === b.module && a.export === b.export && a.mode === b.mode && a.threads === b.threads &&
  a.startTimeoutMs === b.startTimeoutMs && sameArg(a.arg, b.arg);

/** A task the worker runs again: counted in LANE_REPEATS, no message. */
export const REPEAT = Symbol('repeat');

const sameMeta = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

/**
 * A campaign runs trial after trial on one reused buffer with one layout: a simulated CPU's worker is sent the
 * machine only when it differs from what that worker was last sent (workers/thread.ts keeps it), which spares
 * serialising the layout and a fresh handle on the buffer per CPU per run. A synchronous trial's task that is
 * the worker's last one again (the same CPU, actor and argument values: a verify or repro run's) is not sent at
 * all (REPEAT): the worker runs the object it kept, so an actor must not change its argument. Only for the lab's
 * own thread module (workers/thread.ts keeps the machine).
 */
export function slim(l: { sent?: Sent }, task: ThreadTask, sync: boolean): ThreadTask | typeof REPEAT {
  const m = task.machine, was = l.sent;
  if (was && was.sab === m.sab && was.layout === m.layout && sameMeta(was.meta, m.meta)) {
    if (sync && was.task && sameTask(was.task, task)) return REPEAT;
    was.task = sync ? task : undefined;
    return { ...task, machine: SAME_MACHINE };
  }
  l.sent = { sab: m.sab, layout: m.layout, meta: m.meta, task: sync ? task : undefined };
  return task;
}

