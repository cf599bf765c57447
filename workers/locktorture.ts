// Lock torture thread body (in the spirit of Linux's locktorture): one worker_thread plays one CPU, attaches the
// machine and runs jobs against the lab's locks on command. Used by `vpci-lab bench locks` (bench/locks.ts) and by
// test/lib/sync/sync.test.ts through the pool in bench/torture.ts.
//
// Protocol: the pool posts { job, round, now }. Unless `now`, the worker counts itself in READY and waits for the
// pool to publish `round` in GO, so that every worker of a round starts together; it runs the job, stores its end
// time (epoch ms, Float64) and counts itself in DONE, then posts its result. A ModelCrash (bug, use-after-free, ...)
// or TrialStopped is a result, never an exception that escapes.

import { parentPort, workerData } from 'node:worker_threads';
import { attach, M, F64, CTL, type Machine } from '../lib/mem/machine.js';
import { defineStruct } from '../lib/mem/layout.js';
import {
  spin_lock, spin_unlock, spin_lock_recursive, spin_unlock_recursive, spin_barrier, read_lock, read_unlock, write_lock,
  write_unlock, setProfiling, setLockdep, setLockTracing, lockdepReports, clearLockdepReports, RWLOCK_WORDS, SPINLOCK_WORDS,
  takeWaitCounts, WAIT_COUNTS,
} from '../lib/sync/index.js';

/**
 * Words of the pool's control block (a machine region, 8-word aligned), relative to its base. START_TIMES and
 * END_TIMES hold one Float64 per CPU (epoch ms): when the worker saw GO, and when it finished.
 */
export const TC = { GO: 0, READY: 1, DONE: 2, SLEEP: 3, HALT: 4, START_TIMES: 8, END_TIMES: 40 } as const;
export const TC_WORDS = TC.END_TIMES + 2 * 16;

/**
 * A lock under test with its shared counter and locktorture state, each on its own cache line (16 words), like the
 * C reference's lock and counter.
 */
export const TORTURE = defineStruct('locktorture', {
  lock: Math.max(SPINLOCK_WORDS, RWLOCK_WORDS), pad0: 48 - Math.max(SPINLOCK_WORDS, RWLOCK_WORDS),
  counter: 16,
  // locktorture checks: readers inside, writer inside, errors, reads, writes
  state: 16,
});
/** Offsets inside TORTURE.state. */
export const TS = { READERS: 0, WRITER: 1, ERRORS: 2, READS: 3, WRITES: 4 } as const;

export interface Instrument { profile: boolean; lockdep: boolean; trace: boolean }

export type Job =
  /**
   * iters × { spin_lock; counter = counter + 1 (non-atomic); spin_unlock }; `log` (if set: word 0 = words used) gets
   * [cpu, ticket] per acquisition. `untilHalt`: instead, until the pool raises HALT (HALT tested every 64
   * acquisitions, as the C reference does); the count comes back as `reads`.
   */
  | { kind: 'spin'; lock: number; counter: number; iters: number; hold?: number; log?: number; recursive?: boolean; untilHalt?: boolean }
  /**
   * iters × read (or, writePermille/1000 of the time, write) sections with locktorture's checks in `state`;
   * `untilHalt`: instead, until the pool raises HALT (timed rounds: a non-FIFO lock lets threads finish apart).
   */
  | { kind: 'rw'; lock: number; state: number; iters: number; writePermille: number; hold?: number; seed?: number; untilHalt?: boolean }
  /**
   * One acquisition: log tag*2 when it has the lock, hold holdMs, log tag*2+1, release. 'recursive' takes the lock
   * twice with spin_lock_recursive; 'barrier' is spin_barrier (log tag*2 once it returns, then tag*2+1).
   */
  | { kind: 'once'; op: 'spin' | 'read' | 'write' | 'recursive' | 'barrier'; lock: number; log: number; tag: number; holdMs: number }
  /** Take the locks in order (each while holding the previous ones), release in reverse: lock-order tests. */
  | { kind: 'nest'; locks: { op: 'spin' | 'read' | 'write'; lock: number }[] };

export type JobResult =
  | { ok: true; cpu: number; maxReaders: number; reads: number; writes: number; ms: number; lockdep: string[]; sleeps: number; waits: number[] }
  | { ok: false; cpu: number; kind: string; message: string; lockdep: string[] };

export interface TortureBoot { machine: Machine; cpu: number; ctl: number }
export interface TortureMessage { job: Job; round: number; now: boolean; instrument?: Instrument }

/** Busy work inside a critical section (locktorture's hold time), in loop iterations. */
function hold(n: number, at: number): void {
  for (let i = 0; i < n; i++) M[at] = (M[at] + i) | 0;
}

/** Timed rounds: acquisitions until HALT, checked every 64 so the test costs nothing measurable. */
function runSpinUntilHalt(lock: number, counter: number, ctl: number): number {
  let n = 0;
  while (Atomics.load(M, ctl + TC.HALT) === 0) {
    for (let i = 0; i < 64; i++) {
      spin_lock(lock);
      M[counter] = M[counter] + 1;
      spin_unlock(lock);
    }
    n += 64;
  }
  return n;
}

function runSpin(j: Extract<Job, { kind: 'spin' }>, cpu: number): void {
  const { lock, counter, iters } = j;
  const h = j.hold ?? 0;
  const log = j.log ?? 0;
  if (j.recursive) {
    for (let i = 0; i < iters; i++) {
      spin_lock_recursive(lock); spin_lock_recursive(lock);
      const v = M[counter]; if (h) hold(h, counter + 1); M[counter] = v + 1;
      spin_unlock_recursive(lock); spin_unlock_recursive(lock);
    }
    return;
  }
  if (log === 0 && h === 0) {
    for (let i = 0; i < iters; i++) {
      spin_lock(lock);
      M[counter] = M[counter] + 1;
      spin_unlock(lock);
    }
    return;
  }
  for (let i = 0; i < iters; i++) {
    spin_lock(lock);
    const v = M[counter];
    if (h) hold(h, counter + 1);
    M[counter] = v + 1;
    if (log) { const n = M[log]; M[log + 1 + n] = cpu; M[log + 2 + n] = M[lock] & 0xffff; M[log] = n + 2; }
    spin_unlock(lock);
  }
}

function runRw(j: Extract<Job, { kind: 'rw' }>, cpu: number, ctl: number): { maxReaders: number; reads: number; writes: number } {
  const { lock, state, writePermille } = j;
  const iters = j.untilHalt ? 0x7fffffff : j.iters;
  const h = j.hold ?? 0;
  const R = state + TS.READERS, W = state + TS.WRITER, E = state + TS.ERRORS;
  let rng = (j.seed ?? 0x9e3779b9) ^ (cpu * 0x85ebca6b) | 1;
  let maxReaders = 0, reads = 0, writes = 0;
  for (let i = 0; i < iters; i++) {
    if (j.untilHalt && (i & 63) === 0 && Atomics.load(M, ctl + TC.HALT) !== 0) break;
    rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5;
    if ((rng >>> 0) % 1000 < writePermille) {
      write_lock(lock);
      if (Atomics.exchange(M, W, 1) !== 0) Atomics.add(M, E, 1);     // two writers inside
      if (Atomics.load(M, R) !== 0) Atomics.add(M, E, 1);            // a writer among readers
      const v = M[state + TS.WRITES];
      if (h) hold(h, state + 8);
      M[state + TS.WRITES] = v + 1;                                   // non-atomic: only correct under the lock
      Atomics.store(M, W, 0);
      write_unlock(lock);
      writes++;
    } else {
      read_lock(lock);
      const r = Atomics.add(M, R, 1) + 1;
      if (r > maxReaders) maxReaders = r;
      if (Atomics.load(M, W) !== 0) Atomics.add(M, E, 1);            // a reader sees a writer inside
      if (h) hold(h, state + 9 + (cpu & 3));
      Atomics.sub(M, R, 1);
      read_unlock(lock);
      reads++;
    }
  }
  Atomics.add(M, state + TS.READS, reads);
  return { maxReaders, reads, writes };
}

function take(op: 'spin' | 'read' | 'write', lock: number): void {
  if (op === 'spin') spin_lock(lock); else if (op === 'read') read_lock(lock); else write_lock(lock);
}
function drop(op: 'spin' | 'read' | 'write', lock: number): void {
  if (op === 'spin') spin_unlock(lock); else if (op === 'read') read_unlock(lock); else write_unlock(lock);
}

function runOnce(j: Extract<Job, { kind: 'once' }>, ctl: number): void {
  const { lock, log, tag, holdMs, op } = j;
  if (op === 'barrier') spin_barrier(lock);
  else if (op === 'recursive') { spin_lock_recursive(lock); spin_lock_recursive(lock); }
  else take(op, lock);
  M[log + 1 + Atomics.add(M, log, 1)] = tag * 2;
  if (holdMs > 0) Atomics.wait(M, ctl + TC.SLEEP, 0, holdMs);
  M[log + 1 + Atomics.add(M, log, 1)] = tag * 2 + 1;
  if (op === 'recursive') { spin_unlock_recursive(lock); spin_unlock_recursive(lock); }
  else if (op !== 'barrier') drop(op, lock);
}

function runNest(j: Extract<Job, { kind: 'nest' }>): void {
  for (const { op, lock } of j.locks) take(op, lock);
  for (let i = j.locks.length - 1; i >= 0; i--) drop(j.locks[i].op, j.locks[i].lock);
}

const reports = (): string[] => lockdepReports().map((r) => r.message);

function instrument(i: Instrument | undefined): void {
  if (!i) return;
  setProfiling(i.profile); setLockdep(i.lockdep); setLockTracing(i.trace);
}

function startWait(ctl: number, round: number): void {
  Atomics.add(M, ctl + TC.READY, 1);
  Atomics.notify(M, ctl + TC.READY);
  for (let spins = 0; ; spins++) {
    const g = Atomics.load(M, ctl + TC.GO);
    if (g === round) return;
    if (Atomics.load(M, CTL.STOP) !== 0) return;
    if (spins > 1000) Atomics.wait(M, ctl + TC.GO, g, 50);
  }
}

function main(boot: TortureBoot): void {
  const port = parentPort!;
  attach(boot.machine, boot.cpu);
  const { cpu, ctl } = boot;
  port.on('message', (msg: TortureMessage) => {
    instrument(msg.instrument);
    clearLockdepReports();
    if (!msg.now) startWait(ctl, msg.round);
    F64[(ctl + TC.START_TIMES) / 2 + cpu] = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    takeWaitCounts();
    let result: JobResult;
    let extra = { maxReaders: 0, reads: 0, writes: 0 };
    try {
      const j = msg.job;
      if (j.kind === 'spin' && j.untilHalt) extra = { maxReaders: 0, reads: runSpinUntilHalt(j.lock, j.counter, ctl), writes: 0 };
      else if (j.kind === 'spin') runSpin(j, cpu);
      else if (j.kind === 'rw') extra = runRw(j, cpu, ctl);
      else if (j.kind === 'once') runOnce(j, ctl);
      else runNest(j);
      const waits = takeWaitCounts();
      result = { ok: true, cpu, ...extra, ms: performance.now() - t0, lockdep: reports(), sleeps: waits[WAIT_COUNTS.indexOf('sleeps')], waits };
    } catch (e) {
      const err = e as Error & { kind?: string };
      const kind = err?.name === 'ModelCrash' ? String(err.kind) : err?.name === 'TrialStopped' ? 'stopped' : 'error';
      result = { ok: false, cpu, kind, message: kind === 'error' ? err?.stack ?? String(e) : err.message, lockdep: reports() };
    }
    F64[(ctl + TC.END_TIMES) / 2 + cpu] = performance.timeOrigin + performance.now();
    Atomics.add(M, ctl + TC.DONE, 1);
    Atomics.notify(M, ctl + TC.DONE);
    port.postMessage({ round: msg.round, result });
  });
  port.postMessage({ online: true });
}

if (parentPort && (workerData as { locktorture?: TortureBoot } | undefined)?.locktorture) {
  main((workerData as { locktorture: TortureBoot }).locktorture);
}
