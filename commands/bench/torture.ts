// A pool of locktorture workers (workers/locktorture.ts) on one machine: real worker_threads, one per simulated
// CPU, kept warm across rounds. Every wait has a deadline: a round that does not finish in time terminates the
// pool and rejects, so neither a benchmark nor a test can hang on a broken lock.

import { Worker } from 'node:worker_threads';
import { CTL, type Machine } from '../../lib/mem/machine.js';
import { overlapOf } from '../../lib/run/rounds.js';
import { TC, type Instrument, type Job, type JobResult, type TortureBoot, type TortureMessage } from '../../workers/locktorture.js';

const WORKER_URL = new URL('../../workers/locktorture.js', import.meta.url);

export class DeadlineError extends Error {
  constructor(what: string, ms: number) { super(`${what}: no result within ${ms} ms`); this.name = 'DeadlineError'; }
}

/**
 * elapsedMs runs from the first worker's loop entry to the last worker's exit; starts/ends are each worker's entry
 * and exit (epoch ms). overlap (bench/rounds.ts overlapOf) is the share of the round during which every worker was
 * inside its loop: 1 when they all ran side by side, near 0 when they ran one after another (a round too short for
 * the OS to have them all running at once measures no contention).
 */
export interface Round { elapsedMs: number; overlap: number; starts: number[]; ends: number[]; results: JobResult[] }

export class TorturePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, (r: JobResult) => void>();
  private round = 0;
  private closed = false;
  private failure: Error | undefined;

  // Views of this pool's machine (independent of which machine the calling thread has attached).
  private readonly m: Int32Array;
  private readonly f64: Float64Array;

  private constructor(readonly machine: Machine, readonly cpus: readonly number[], readonly ctl: number) {
    this.m = new Int32Array(machine.sab);
    this.f64 = new Float64Array(machine.sab);
  }

  /** Start one worker per CPU in `cpus`; `ctl` is the base of a TC_WORDS control block (even word index). */
  static async create(machine: Machine, cpus: readonly number[], ctl: number, deadlineMs = 20000): Promise<TorturePool> {
    if (ctl % 8 !== 0) throw new Error('torture control block must be 8-word aligned');
    const pool = new TorturePool(machine, cpus, ctl);
    const online: Promise<void>[] = [];
    for (const cpu of cpus) {
      const boot: TortureBoot = { machine, cpu, ctl };
      const w = new Worker(WORKER_URL, { workerData: { locktorture: boot } });
      const i = pool.workers.length;
      pool.workers.push(w);
      online.push(new Promise<void>((resolve, reject) => {
        w.once('error', reject);
        w.on('message', (m: { online?: boolean; round?: number; result?: JobResult }) => {
          if (m.online) { resolve(); return; }
          const k = pool.key(i, m.round!);
          const f = pool.pending.get(k);
          if (f) { pool.pending.delete(k); f(m.result!); }
        });
      }));
      w.on('error', (e) => { pool.failure ??= e; });
      w.on('exit', (code) => { if (!pool.closed) pool.failure ??= new Error(`locktorture worker for cpu${cpu} exited (${code})`); });
    }
    try {
      await withDeadline(Promise.all(online), deadlineMs, 'locktorture workers starting');
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number { return this.workers.length; }

  private key(worker: number, round: number): number { return round * 64 + worker; }

  private post(i: number, msg: TortureMessage): Promise<JobResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<JobResult>((resolve) => {
      this.pending.set(this.key(i, msg.round), resolve);
      this.workers[i].postMessage(msg);
    });
  }

  /**
   * Run jobs[i] on worker i (undefined: that worker sits out), all starting together; resolves when all are done.
   * elapsedMs runs from the common start to the last worker's end.
   */
  async run(jobs: readonly (Job | undefined)[], deadlineMs: number, instrument?: Instrument, haltAfterMs?: number): Promise<Round> {
    const round = ++this.round;
    const active = jobs.map((j, i) => (j ? i : -1)).filter((i) => i >= 0);
    Atomics.store(this.m, this.ctl + TC.READY, 0);
    Atomics.store(this.m, this.ctl + TC.DONE, 0);
    Atomics.store(this.m, this.ctl + TC.HALT, 0);
    const results = active.map((i) => this.post(i, { job: jobs[i]!, round, now: false, instrument }));
    const deadline = Date.now() + deadlineMs;
    try {
      // Every worker counts itself ready before the start; the main thread may block here (it has nothing else to do).
      while (Atomics.load(this.m, this.ctl + TC.READY) < active.length) {
        if (this.failure) throw this.failure;
        if (Date.now() > deadline) throw new DeadlineError('locktorture start barrier', deadlineMs);
        await new Promise((r) => setTimeout(r, 1));
      }
      Atomics.store(this.m, this.ctl + TC.GO, round);
      Atomics.notify(this.m, this.ctl + TC.GO);
      const halt = haltAfterMs === undefined ? undefined : setTimeout(() => Atomics.store(this.m, this.ctl + TC.HALT, 1), haltAfterMs);
      const done = await withDeadline(Promise.all(results), Math.max(1, deadline - Date.now()), 'locktorture round').finally(() => clearTimeout(halt));
      const starts = active.map((i) => this.f64[(this.ctl + TC.START_TIMES) / 2 + this.cpus[i]]);
      const ends = active.map((i) => this.f64[(this.ctl + TC.END_TIMES) / 2 + this.cpus[i]]);
      const elapsedMs = Math.max(Math.max(...ends) - Math.min(...starts), 1e-6);
      return { elapsedMs, overlap: overlapOf(starts, ends), starts, ends, results: done };
    } catch (e) {
      await this.close(true);
      throw e;
    }
  }

  /** Start one job on worker i at once (no barrier). The promise rejects at the deadline (and the pool closes). */
  start(i: number, job: Job, deadlineMs: number, instrument?: Instrument): Promise<JobResult> {
    const round = ++this.round;
    return withDeadline(this.post(i, { job, round, now: true, instrument }), deadlineMs, `locktorture job on cpu${this.cpus[i]}`)
      .catch(async (e: unknown) => { await this.close(true); throw e; });
  }

  /**
   * Terminate every worker. After a failure (`stop`), the machine's stop flag is raised first so that workers stuck
   * on a lock unwind (TrialStopped); the machine is not reusable then.
   */
  async close(stop = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (stop) Atomics.store(this.m, CTL.STOP, 1);
    Atomics.notify(this.m, this.ctl + TC.GO);
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => 0)));
  }
}

export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
