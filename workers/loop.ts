// A pool worker's run loop (lib/run/pool.ts): the worker stays in this loop for its whole life and takes one task at
// a time. The main thread posts a task on the worker's own port, then bumps the worker's word in the pool's shared
// control buffer and wakes it there; the worker reads the port synchronously (receiveMessageOnPort), runs the task
// module's default export, and posts the result back on the port. Between tasks it sleeps on that word, with the
// futex addon when the main thread wakes with it, else Atomics.wait. A task message of null ends the loop. After
// posting a result it rings the pool's bell, for a main thread that waits for results without its event loop.
//
// A piscina task cost the main thread tens of µs of bookkeeping per CPU per run (a task record, an async resource,
// an abort listener, histograms, a microtask) on top of the same message; a verify run posts two to four of them.

import { workerData, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { futexAddon } from '../lib/sched/futex.js';
import { setEndBell } from '../lib/sched/index.js';
import { BELL_WAITING, BELL_REMAINING, type LoopData, type LoopReply } from '../lib/run/task.js';

/** How long one sleep between tasks lasts at most: a terminate takes effect once the sleep returns to JavaScript. */
const SLEEP_MS = 100;

const { ctl, word, bell, port, filename, futex } = workerData as LoopData;
const addon = futex ? futexAddon() : undefined;
const task = (await import(filename) as { default: (t: unknown) => unknown }).default;

/** Ring the pool's bell; wake the main thread only when it sleeps there (pool.ts BELL_WAITING). */
function ring(): void {
  Atomics.add(ctl, bell, 1);
  if (Atomics.load(ctl, bell + BELL_WAITING) === 0) return;
  if (addon) addon.wake(ctl, bell, 1);
  else Atomics.notify(ctl, bell, 1);
}
setEndBell(ring);

function sleep(seen: number): void {
  if (addon) addon.wait(ctl, word, seen, SLEEP_MS);
  else Atomics.wait(ctl, word, seen, SLEEP_MS);
}

for (;;) {
  const seen = Atomics.load(ctl, word); // read before the port: a task posted after this read also changes the word
  const m = receiveMessageOnPort(port);
  if (m === undefined) { sleep(seen); continue; }
  if (m.message === null) break;
  let reply: LoopReply;
  try {
    reply = { ok: true, result: await task(m.message) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply = { ok: false, name: err.name, message: err.message, stack: err.stack };
  }
  port.postMessage(reply);
  if (Atomics.sub(ctl, bell + BELL_REMAINING, 1) <= 1) ring(); // the trial's last result
}
port.close();
