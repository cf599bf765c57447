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

export class TrialPool {
  readonly threads: number;
  readonly filename: string;
  readonly youngGenerationMb: number;
  piscina: Piscina<ThreadTask, ThreadResult>;
  /** Workers terminated because their task did not stop in time (each was replaced). */
  replacedWorkers = 0;
  /** Times the whole pool was recreated. */
  recreated = 0;
  /** Times `refresh` replaced the workers of a long run. */
  refreshed = 0;
  private bornAt = 0;                           // set by make()
  /** Decisions of the last controlled trial that did not hang: the default PCT length estimate. */
  stepEstimate = 0;
  /** Errors the pool emitted (a worker that died outside a task). */
  readonly errors: Error[] = [];

  constructor(o: PoolOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError('pool threads must be >= 1');
    this.threads = o.threads;
    this.filename = (o.filename ?? THREAD_WORKER_URL).toString();
    this.youngGenerationMb = o.youngGenerationMb ?? YOUNG_GENERATION_MB;
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
      resourceLimits: { maxYoungGenerationSizeMb: this.youngGenerationMb },
    });
    p.on('error', (e: Error) => { this.errors.push(e); });
    this.bornAt = performance.now();
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

  /**
   * Before a trial (runTrial): once the workers are older than `maxAgeMs`, let the old ones exit, then start fresh
   * ones. A busy worker's isolate keeps old-space garbage it has no idle time to collect, so a
   * campaign's memory crept up over minutes; a worker that lives at most a few minutes bounds that for good, at the
   * price of one pool start (~0.1 s) per refresh. Call only when none of this pool's tasks is running.
   */
  async refresh(maxAgeMs: number): Promise<boolean> {
    if (performance.now() - this.bornAt < maxAgeMs) return false;
    // The old workers go first: for a moment both sets alive was a peak of its own (219 MB against 195 MB).
    await this.piscina.destroy().catch(() => { /* its workers exit anyway */ });
    this.piscina = this.make();
    this.refreshed++;
    return true;
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
