// A warm pool of worker threads, one per simulated CPU, each in a run loop (workers/loop.ts) that takes one task at
// a time: the main thread posts the task on the worker's own port and wakes it on the worker's doorbell (futex if
// the addon is there), and the worker posts the result back (on one core, a controlled trial wakes its first CPU's
// worker only; lib/sched calls the others in as it first picks them). A campaign's task that is the worker's
// previous one again starts without a message, and a common result of a main thread that pumps (done, stopped or
// a crash, nothing else to say) comes back as lane words (wire.ts, lane.ts). Every task runs with an abort signal:
// one that will not stop is aborted by terminating its worker, and a replacement starts at once. If the pool
// itself goes bad, `recreate()` replaces it wholesale.
// (This was piscina, whose bookkeeping per task was most of what a verify run's main thread spent starting CPUs.)

import { Worker, MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { futexAddon } from '../sched/futex.js';
import { CORES } from '../sched/spin.js';
import {
  BELL_WAITING, BELL_REMAINING, LANE_REPEATS, LANE_SYNC, LANE_RESULTS, LANE_POSTED, CTL_LANE_OF, ctlDoorbell, ctlWords,
  type ThreadTask, type ThreadResult, type LoopData, type LoopReply,
} from './task.js';
import { LANE_BYTES, laneViews, readResult, callLane, wakerOf, type LaneViews } from './lane.js';
import { slim, REPEAT, TaskAbort, type Sent, type TaskSignal } from './wire.js';

export { TaskAbort, type TaskSignal } from './wire.js';

/** The compiled thread entry point (dist/workers/thread.js). */
export const THREAD_WORKER_URL = new URL('../../workers/thread.js', import.meta.url);
/** The run loop every pool worker runs (dist/workers/loop.js). */
const LOOP_URL = new URL('../../workers/loop.js', import.meta.url);

export interface PoolOptions {
  /** Worker threads = the most CPUs a trial may simulate. */
  threads: number;
  /** Task module (default THREAD_WORKER_URL): its default export runs each task. */
  filename?: string | URL;
  /** Each worker's V8 young generation cap in MB (default YOUNG_GENERATION_MB). */
  youngGenerationMb?: number;
}

/**
 * A worker's young generation, capped. Left alone, V8 doubles a busy isolate's semi-spaces (2 -> 4 -> 8 -> 16 MB)
 * whenever a scavenge sees many survivors, so a long campaign's RSS kept climbing for minutes (stress: 210 MB at
 * 60 s, 277 MB at 300 s) while every heap's live data stayed flat. With 6 MB (2 MB semi-spaces) a worker's heap
 * stays at 13-16 MB for good and throughput is unchanged: a trial's garbage dies young, so scavenges are cheap.
 */
export const YOUNG_GENERATION_MB = 6;

/** runTrial replaces workers older than this before a trial starts (TrialPool.refresh). */
export const WORKER_MAX_AGE_MS = 120_000;

/**
 * The bell: a worker rings it (adds 1) once it has posted a task's result, and when its CPU ends a controlled run
 * (lib/sched setEndBell), so that a main thread running a trial synchronously (trial.ts) sleeps on one word
 * (waitBell) and reads results off the ports itself (pump), without the event loop. BELL_WAITING tells ringers
 * that someone sleeps on it (else a ring is one atomic add, no system call); BELL_REMAINING counts the results the
 * sleeper still waits for, so that only the last of them wakes it.
 */
const BELL = 0;

interface Job {
  task: ThreadTask; signal: TaskSignal; resolve: (r: ThreadResult) => void; reject: (e: Error) => void; onAbort?: () => void;
  /** Its submitter pumps (a synchronous trial): the result may come back as lane words, the task as a repeat. */
  sync: boolean;
}
interface Lane {
  index: number; worker: Worker; port: MessagePort; online: boolean; exited: boolean; job?: Job; sent?: Sent;
  /** The lane's words (task.ts LANE_*, lane.ts), its own buffer: a worker being terminated cannot write a successor's. */
  views: LaneViews; words: Int32Array;
  /** Results taken from the words so far; messages posted that pump has looked for. */
  taken: number; posted: number;
}

export class TrialPool {
  readonly threads: number;
  readonly filename: string;
  readonly youngGenerationMb: number;
  /** Workers terminated because their task did not stop in time (each was replaced). */
  replacedWorkers = 0;
  /** Times the whole pool was recreated. */
  recreated = 0;
  /** Times `refresh` replaced the workers of a long run. */
  refreshed = 0;
  /** Tasks started without a message (a worker's last task again), results that came back as lane words. */
  repeated = 0;
  resultWords = 0;
  /** Results of synchronous trials may come back as lane words (off: always messages; tests compare the two). */
  wordResults = true;
  /** Wake a synchronous trial's CPUs as first picked, on one core (else all at once: they arrive while CPU 0 runs). */
  lazyStart = CORES <= 1;
  private bornAt = 0;
  /** Decisions of the last controlled trial that did not hang: the default PCT length estimate. */
  stepEstimate = 0;
  /** Errors the workers threw outside a task (a worker that died). */
  readonly errors: Error[] = [];
  private readonly ctl: Int32Array;
  private readonly futex = futexAddon();
  private readonly wake = wakerOf(this.futex);
  private lanes: Lane[] = [];
  private readonly queue: Job[] = [];

  constructor(o: PoolOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError('pool threads must be >= 1');
    this.threads = o.threads;
    this.filename = o.filename === undefined ? THREAD_WORKER_URL.href : new URL(o.filename.toString(), 'file:///').href;
    this.youngGenerationMb = o.youngGenerationMb ?? YOUNG_GENERATION_MB;
    this.ctl = new Int32Array(new SharedArrayBuffer(ctlWords(o.threads) * 4));
    this.make();
  }

  private make(): void {
    this.lanes = Array.from({ length: this.threads }, (_, i) => this.lane(i));
    this.bornAt = performance.now();
  }

  private lane(index: number): Lane {
    const { port1, port2 } = new MessageChannel();
    const sab = new SharedArrayBuffer(LANE_BYTES);
    const views = laneViews(sab);
    const data: LoopData = {
      ctl: this.ctl, bell: this.bellWord, doorbell: ctlDoorbell(index), lane: sab, compact: this.filename === THREAD_WORKER_URL.href, port: port2, filename: this.filename,
      futex: this.futex !== undefined,
    };
    const worker = new Worker(LOOP_URL, { workerData: data, transferList: [port2], resourceLimits: { maxYoungGenerationSizeMb: this.youngGenerationMb } });
    const l: Lane = { index, worker, port: port1, online: false, exited: false, views, words: views.words, taken: 0, posted: 0 };
    worker.on('online', () => { l.online = true; });
    worker.on('error', (e: Error) => { this.errors.push(e); this.fail(l, e); });
    worker.on('exit', () => {
      l.exited = true;
      this.fail(l, new Error(`worker ${index} exited`));
      if (this.lanes[index] === l) this.replace(l);
    });
    port1.on('message', (m: LoopReply) => this.reply(l, m));
    this.idle(l);
    return l;
  }

  /** An idle pool does not keep the process alive (a command that forgot close() still exits). */
  private idle(l: Lane): void { l.worker.unref(); l.port.unref(); }

  private start(l: Lane, job: Job, wake = true): void {
    l.job = job;
    job.onAbort = () => {
      this.fail(l, job.signal.reason instanceof Error ? job.signal.reason : new Error('aborted'));
      this.replace(l);
    };
    if (job.signal instanceof TaskAbort) job.signal.onabort = job.onAbort;
    else job.signal.addEventListener('abort', job.onAbort, { once: true });
    l.worker.ref(); l.port.ref();
    const w = l.words, wire = this.filename === THREAD_WORKER_URL.href ? slim(l, job.task, job.sync) : job.task;
    Atomics.store(w, LANE_SYNC, job.sync && this.wordResults ? 1 : 0);
    if (wire === REPEAT) { Atomics.add(w, LANE_REPEATS, 1); this.repeated++; }
    else l.port.postMessage(wire);
    if (!wake) Atomics.store(this.ctl, CTL_LANE_OF + job.task.cpu, l.index + 1);
    const d = ctlDoorbell(l.index);
    Atomics.add(this.ctl, d, 1);
    if (wake) this.wake(this.ctl, d);
  }

  /** Wake the worker holding CPU c's task if it was started without a wake (lib/sched's arrive bell on this thread). */
  readonly callIn = (c: number): void => callLane(this.ctl, c, this.wake);

  /** The lane's job, taken off it (its abort listener removed), or undefined. */
  private take(l: Lane): Job | undefined {
    const job = l.job;
    if (!job) return undefined;
    l.job = undefined;
    if (job.signal instanceof TaskAbort) job.signal.onabort = undefined;
    else if (job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
    return job;
  }

  private reply(l: Lane, m: LoopReply | ThreadResult): void {
    const job = this.take(l);
    if (job) {
      if (!('ok' in m)) job.resolve(m);
      else if (m.ok) job.resolve(m.result as ThreadResult);
      else job.reject(Object.assign(new Error(m.message), { name: m.name, stack: m.stack }));
    }
    const next = this.queue.shift();
    if (next) this.start(l, next); else this.idle(l);
  }

  private fail(l: Lane, e: Error): void { this.take(l)?.reject(e); }

  /** Terminate a lane's worker (its job already failed) and start a new one in its place. */
  private replace(l: Lane): void {
    if (this.lanes[l.index] !== l) return;
    this.lanes[l.index] = this.lane(l.index);
    l.port.close();
    if (!l.exited) l.worker.terminate().catch(() => { /* it is going anyway */ });
    const next = this.queue.shift();
    if (next) this.start(this.lanes[l.index], next);
  }

  run(task: ThreadTask, signal: TaskSignal): Promise<ThreadResult> {
    return new Promise<ThreadResult>((resolve, reject) => this.submit(task, signal, resolve, reject));
  }

  /**
   * Run a task; its result or error goes to the callbacks: from the event loop, or (sync: the caller pumps until
   * it has them, as a synchronous trial does) from `pump` only. `wake` false: its worker is woken only when lib/sched
   * calls its CPU in (callIn: a controlled trial's CPUs are, but the first), or the trial stops.
   */
  submit(task: ThreadTask, signal: TaskSignal, resolve: (r: ThreadResult) => void, reject: (e: Error) => void, sync = false, wake = true): void {
    if (signal.aborted) { reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')); return; }
    const job: Job = { task, signal, resolve, reject, sync };
    const free = this.lanes.find((l) => l.job === undefined);
    if (free) this.start(free, job, wake || !this.lazyStart); else this.queue.push(job);
  }

  private get bellWord(): number { return BELL; }

  /** The bell's count now: pass it to waitBell after looking for results. */
  bell(): number { return Atomics.load(this.ctl, this.bellWord); }

  /** The next `n` results are one trial's: only the last of them need wake a sleeper. */
  expectResults(n: number): void { Atomics.store(this.ctl, this.bellWord + BELL_REMAINING, n); }

  /** Sleep until the bell is rung after `seen` was read, at most `ms`. */
  waitBell(seen: number, ms: number): void {
    const w = this.bellWord;
    Atomics.store(this.ctl, w + BELL_WAITING, 1);
    if (this.futex) this.futex.wait(this.ctl, w, seen, ms);
    else Atomics.wait(this.ctl, w, seen, ms);
    Atomics.store(this.ctl, w + BELL_WAITING, 0);
  }

  /** Take every result the workers have posted, without the event loop (their callbacks run now). */
  pump(): void {
    for (const l of this.lanes) {
      while (l.job) {
        if (l.job.sync && Atomics.load(l.words, LANE_RESULTS) !== l.taken) {
          l.taken++;
          this.resultWords++;
          this.reply(l, readResult(l.views));
          continue;
        }
        // A message is looked for only once the worker has counted one (an empty look costs a call into C++).
        const posted = Atomics.load(l.words, LANE_POSTED);
        if (posted === l.posted) break;
        l.posted = posted;
        const m = receiveMessageOnPort(l.port);
        if (m === undefined) break;
        this.reply(l, m.message as LoopReply);
      }
    }
  }

  /** Live workers right now. */
  get liveWorkers(): number { return this.lanes.filter((l) => l.online && !l.exited).length; }

  /** Stop every worker (their jobs fail) and wait until they are gone. */
  private async stopAll(): Promise<void> {
    const old = this.lanes;
    this.lanes = [];
    for (const j of this.queue.splice(0)) j.reject(new Error('pool closed'));
    await Promise.all(old.map(async (l) => {
      this.fail(l, new Error('pool closed'));
      l.port.close();
      if (!l.exited) await l.worker.terminate().catch(() => { /* gone anyway */ });
    }));
  }

  /** Throw the workers away (without waiting for them) and start fresh ones. */
  recreate(): void {
    void this.stopAll();
    this.make();
    this.recreated++;
  }

  /**
   * Before a trial (runTrial): once the workers are older than `maxAgeMs`, let the old ones exit, then start fresh
   * ones. A busy worker's isolate keeps old-space garbage it has no idle time to collect, so a
   * campaign's memory crept up over minutes; a worker that lives at most a few minutes bounds that for good, at the
   * price of one pool start (~0.1 s) per refresh. Call only when none of this pool's tasks is running.
   */
  async refresh(maxAgeMs: number): Promise<boolean> {
    if (!this.due(maxAgeMs)) return false;
    // The old workers go first: for a moment both sets alive was a peak of its own (219 MB against 195 MB).
    await this.stopAll();
    this.make();
    this.refreshed++;
    return true;
  }

  /** The workers are older than `maxAgeMs`: refresh would replace them (a trial asks first, sparing a wait per run). */
  due(maxAgeMs: number): boolean { return performance.now() - this.bornAt >= maxAgeMs; }

  /** After aborts: wait (bounded) for the replacements to come up; recreate the pool if they do not. */
  async recover(timeoutMs = 2000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.liveWorkers < this.threads) {
      if (performance.now() > deadline) { this.recreate(); return; }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> { await this.stopAll(); }
}

export function createPool(threads: number, o: Omit<PoolOptions, 'threads'> = {}): TrialPool {
  return new TrialPool({ threads, ...o });
}
