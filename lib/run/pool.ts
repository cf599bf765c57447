// A warm pool of worker threads, one per simulated CPU (piscina: minThreads = maxThreads = threads,
// concurrentTasksPerWorker = 1). Every task is run with an AbortSignal, so piscina's balancer never puts two of a
// trial's tasks on one worker, and a task that will not stop can be aborted: piscina terminates its worker and
// starts a replacement. If the pool itself goes bad, `recreate()` replaces it wholesale.

import { Piscina } from 'piscina';
import type { ThreadTask, ThreadResult } from './task.js';

/** The compiled thread entry point (dist/workers/thread.js). */
export const THREAD_WORKER_URL = new URL('../../workers/thread.js', import.meta.url);

export interface PoolOptions {
  /** Worker threads = the most CPUs a trial may simulate. */
  threads: number;
  /** Thread entry module (default THREAD_WORKER_URL). */
  filename?: string | URL;
}

export class TrialPool {
  readonly threads: number;
  readonly filename: string;
  piscina: Piscina<ThreadTask, ThreadResult>;
  /** Workers terminated because their task did not stop in time (each was replaced). */
  replacedWorkers = 0;
  /** Times the whole pool was recreated. */
  recreated = 0;
  /** Decisions of the last controlled trial that did not hang: the default PCT length estimate. */
  stepEstimate = 0;
  /** Errors the pool emitted (a worker that died outside a task). */
  readonly errors: Error[] = [];

  constructor(o: PoolOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError('pool threads must be >= 1');
    this.threads = o.threads;
    this.filename = (o.filename ?? THREAD_WORKER_URL).toString();
    this.piscina = this.make();
  }

  private make(): Piscina<ThreadTask, ThreadResult> {
    const p = new Piscina<ThreadTask, ThreadResult>({
      filename: this.filename,
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      maxQueue: 'auto',
    });
    p.on('error', (e: Error) => { this.errors.push(e); });
    return p;
  }

  run(task: ThreadTask, signal: AbortSignal): Promise<ThreadResult> {
    return this.piscina.run(task, { signal });
  }

  /** Live workers right now. */
  get liveWorkers(): number { return this.piscina.threads.length; }

  /** Throw the pool away (without waiting for its workers) and start a fresh one. */
  recreate(): void {
    const old = this.piscina;
    this.piscina = this.make();
    this.recreated++;
    old.destroy().catch(() => { /* its workers are being terminated anyway */ });
  }

  /** After aborts: wait (bounded) for piscina's replacements; recreate the pool if they do not come. */
  async recover(timeoutMs = 2000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.liveWorkers < this.threads) {
      if (performance.now() > deadline) { this.recreate(); return; }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> { await this.piscina.destroy(); }
}

export function createPool(threads: number, o: Omit<PoolOptions, 'threads'> = {}): TrialPool {
  return new TrialPool({ threads, ...o });
}
