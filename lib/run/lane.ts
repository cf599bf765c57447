// A result as words: what a pool worker (workers/loop.ts) writes into its lane instead of posting a message, when
// it has nothing to say but how its CPU ended (done with no value, stopped, or a crash with its kind, site and
// message) and its main thread pumps results itself (a controlled trial). A message cost both threads a
// serialisation, an allocation of every field and a system call; a verify run's CPUs end this way nearly always.

import { LANE_RESULTS, CTL_LANE_OF, ctlDoorbell, type ThreadResult } from './task.js';

/** The result words: after the lane's control words, then the crash's strings as UTF-16 code units. */
const STATUS = 8, CPU = 9, WORKER = 10, KIND_LEN = 11, WHERE_LEN = 12, MESSAGE_LEN = 13;
/** Float64 index of the result's ms (bytes 112..119). */
const MS_F64 = 14;
const TEXT_U16 = 64, TEXT_MAX = 1024;
/** Bytes of a lane's buffer. */
export const LANE_BYTES = (TEXT_U16 + TEXT_MAX) * 2;

const DONE = 1, STOPPED = 2, CRASH = 3;

/** A lane buffer's views. */
export interface LaneViews { words: Int32Array; f64: Float64Array; text: Uint16Array }
export function laneViews(sab: SharedArrayBuffer): LaneViews {
  return { words: new Int32Array(sab), f64: new Float64Array(sab), text: new Uint16Array(sab) };
}

function put(text: Uint16Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) text[at + i] = s.charCodeAt(i);
  return at + s.length;
}

const str = (text: Uint16Array, from: number, to: number): string =>
  String.fromCharCode.apply(null, text.subarray(from, to) as unknown as number[]);

/**
 * Write r as words and publish it (LANE_RESULTS), if it is one workers/thread.ts makes with nothing else in it
 * (its keys counted: readResult rebuilds the same keys in the same order); false, nothing written, otherwise.
 */
export function writeResult(v: LaneViews, r: ThreadResult): boolean {
  if (r.lockdep.length > 0 || r.lockHist !== undefined) return false;
  const keys = Object.keys(r).length, w = v.words;
  let status = 0;
  if (r.status === 'done') status = keys === 7 && r.value === undefined ? DONE : 0;
  else if (r.status === 'stopped') status = keys === 6 ? STOPPED : 0;
  else if (r.status === 'crash' && keys === 7) {
    const c = r.crash;
    if (c === undefined || Object.keys(c).length !== 3 || typeof c.kind !== 'string' || typeof c.where !== 'string' || typeof c.message !== 'string') return false;
    if (c.kind.length + c.where.length + c.message.length > TEXT_MAX) return false;
    put(v.text, put(v.text, put(v.text, TEXT_U16, c.kind), c.where), c.message);
    w[KIND_LEN] = c.kind.length; w[WHERE_LEN] = c.where.length; w[MESSAGE_LEN] = c.message.length;
    status = CRASH;
  }
  if (status === 0) return false;
  w[STATUS] = status;
  w[CPU] = r.cpu;
  w[WORKER] = r.workerId;
  v.f64[MS_F64] = r.ms;
  Atomics.add(w, LANE_RESULTS, 1); // publishes the words above
  return true;
}

/** The result writeResult published: the object workers/thread.ts made. */
export function readResult(v: LaneViews): ThreadResult {
  const w = v.words, status = w[STATUS];
  const r: ThreadResult = { cpu: w[CPU], status: status === DONE ? 'done' : status === STOPPED ? 'stopped' : 'crash', lockdep: [], lockHist: undefined, workerId: w[WORKER], ms: v.f64[MS_F64] };
  if (status === DONE) r.value = undefined;
  else if (status === CRASH) {
    const a = TEXT_U16 + w[KIND_LEN], b = a + w[WHERE_LEN], c = b + w[MESSAGE_LEN];
    r.crash = { kind: str(v.text, TEXT_U16, a) as NonNullable<ThreadResult['crash']>['kind'], where: str(v.text, a, b), message: str(v.text, b, c) };
  }
  return r;
}

/**
 * Wake the worker holding CPU c's task of a pool's trial if that task was started without a wake (task.ts
 * CTL_LANE_OF): lib/sched's arrive bell, on the workers and on the main thread running the trial. Its doorbell was
 * bumped with the task, so only a worker already asleep there needs the wake; any other wake is a spurious one.
 */
export function callLane(ctl: Int32Array, c: number, wake: (w: Int32Array, index: number) => void): void {
  const lane = Atomics.load(ctl, CTL_LANE_OF + c) - 1;
  if (lane >= 0) wake(ctl, ctlDoorbell(lane));
}

/** How a word of a pool's buffers is woken (one sleeper): with the futex addon, else Atomics.notify. */
export function wakerOf(addon: { wake(m: Int32Array, index: number, count: number): number } | undefined): (w: Int32Array, index: number) => void {
  return addon ? (w, i) => { addon.wake(w, i, 1); } : (w, i) => { Atomics.notify(w, i, 1); };
}
