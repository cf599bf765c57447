// A pool worker's run loop (lib/run/pool.ts): the worker stays in this loop for its whole life and takes one task at
// a time. The main thread posts a task on the worker's own port, or (a campaign's next run, the same task again)
// counts it in the worker's lane words without a message; then it bumps the worker's doorbell and wakes it there
// (a controlled trial's CPUs but the first are woken by the scheduler instead, when it first picks them). The
// worker reads the port synchronously (receiveMessageOnPort), runs the task module's default export, and posts the
// result back on the port, or, for a main thread that pumps results itself and a result with nothing to say but
// done or stopped, writes it into its lane words. Between tasks it sleeps on the doorbell, with the futex addon when
// the main thread wakes with it, else Atomics.wait. A task message of null ends the loop. After each result it
// rings the pool's bell, for a main thread that waits for results without its event loop.
//
// A piscina task cost the main thread tens of µs of bookkeeping per CPU per run (a task record, an async resource,
// an abort listener, histograms, a microtask) on top of the same message; a verify run posts two to four of them.
// Then the messages themselves (the task with its actor's argument, the result) were most of what a run's CPUs
// cost outside the model: serialised on one side, deserialised on the other, garbage on both.

import { workerData, receiveMessageOnPort } from 'node:worker_threads';
import { futexAddon } from '../lib/sched/futex.js';
import { setEndBell, setArriveBell } from '../lib/sched/index.js';
import { BELL_WAITING, BELL_REMAINING, LANE_REPEATS, LANE_SYNC, LANE_POSTED, type LoopData, type LoopReply, type ThreadResult } from '../lib/run/task.js';
import { laneViews, writeResult, callLane, wakerOf } from '../lib/run/lane.js';

/** How long one sleep between tasks lasts at most: a terminate takes effect once the sleep returns to JavaScript. */
const SLEEP_MS = 100;

const { ctl, bell, doorbell, lane, port, filename, futex, compact } = workerData as LoopData;
const views = laneViews(lane);
const words = views.words;
const addon = futex ? futexAddon() : undefined;
const task = (await import(filename) as { default: (t: unknown) => unknown }).default;

const wake = wakerOf(addon);

/** Ring the pool's bell; wake the main thread only when it sleeps there (pool.ts BELL_WAITING). */
function ring(): void {
  Atomics.add(ctl, bell, 1);
  if (Atomics.load(ctl, bell + BELL_WAITING) !== 0) wake(ctl, bell);
}
setEndBell(ring);
setArriveBell((c) => callLane(ctl, c, wake));

function sleep(seen: number): void {
  if (addon) addon.wait(ctl, doorbell, seen, SLEEP_MS);
  else Atomics.wait(ctl, doorbell, seen, SLEEP_MS);
}

/** The worker's last task: what a task counted in LANE_REPEATS runs again. */
let last: unknown;
let repeats = 0;
for (;;) {
  const seen = Atomics.load(ctl, doorbell); // read before the port: a task posted after this read also changes it
  // A lane has one task at a time: a repeat, or else a message (looking at the port is a call into C++).
  if (last !== undefined && Atomics.load(words, LANE_REPEATS) !== repeats) repeats = Atomics.load(words, LANE_REPEATS);
  else {
    const m = receiveMessageOnPort(port);
    if (m === undefined) { sleep(seen); continue; }
    if (m.message === null) break;
    last = m.message;
    repeats = Atomics.load(words, LANE_REPEATS); // the main thread counts a repeat only after this task's result
  }
  const asWords = compact && Atomics.load(words, LANE_SYNC) === 1;
  let reply: LoopReply | undefined;
  try {
    const result = await task(last);
    if (!asWords || !writeResult(views, result as ThreadResult)) reply = { ok: true, result };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply = { ok: false, name: err.name, message: err.message, stack: err.stack };
  }
  if (reply) { port.postMessage(reply); Atomics.add(words, LANE_POSTED, 1); }
  if (Atomics.sub(ctl, bell + BELL_REMAINING, 1) <= 1) ring(); // the trial's last result
}
port.close();
