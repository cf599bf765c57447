// `vpci-lab bench locks`: the cost of the lab's Xen-faithful locks on real threads, next to the same ticket lock
// with the same wait policy in C11 (bench/ref/ticket.c), run in the same invocation so that ratios come from one run.
//
// - Uncontended pairs on one thread, with tinybench (each task call runs K pairs; per-pair figure = median latency
//   / K): spin_lock + counter++ + spin_unlock (C does the same), read_lock/read_unlock, write_lock/write_unlock.
//   Raw (lock profiling, lockdep and flight-recorder lock events off) beside instrumented (all three on, the lab's
//   default), and the floor: the same two atomic operations with no lab code around them. Each mode in a worker
//   thread of its own (pairs.ts).
// - Contended: T worker_threads (workers/locktorture.ts) against T pthreads, each taking the same lock `iters`
//   times around the same critical section (non-atomic counter++, checked for lost updates). Rounds are measured
//   alike on both sides (bench/rounds.ts): >= 200 ms, counted only when every thread was inside its loop for >= 90%
//   of the round; the report says how many were dropped. The thread counts alternate sides so that a change in
//   machine load hits both.
// - Read-mostly: 4 threads on one rwlock, 90% read sections / 10% write sections, with locktorture's checks.

import { availableParallelism, loadavg } from 'node:os';
import { attach, createMachine, region, M, type Machine } from '../../lib/mem/machine.js';
import { xzalloc } from '../../lib/mem/heap.js';
import { spin_lock_init, rwlock_init, setLockTracing, setProfiling, setLockdep, WAIT_COUNTS } from '../../lib/sync/index.js';
import { TORTURE, TS, TC_WORDS, type Job } from '../../workers/locktorture.js';
import { TorturePool } from './torture.js';
import { measurePairs } from './pairs.js';
import { NativeReference, type NativePolicy } from './reference.js';
import { measureRounds, median, type RoundsOptions, type RoundsResult, type RoundSample } from '../../lib/run/rounds.js';
import { goals, type BenchReport, type BenchRow } from '../../report/locks-table.js';
import { futexStatus, useFutexLocks } from '../../lib/sched/futex.js';

export { median };
export { goals, formatReport, type BenchReport, type BenchRow, type Goal } from '../../report/locks-table.js';

export interface BenchOptions {
  quick: boolean;
  /** Thread counts of the contended mode. */
  threads: number[];
  /** Progress lines (stderr). */
  log: (line: string) => void;
}


/** Contended rounds, with the ticket waits that slept per acquisition over every round run (counted or not). */
type Measured = RoundsResult & { sleepsPerOp?: number; waitsPerOp?: number[] };

const row = (lock: string, mode: string, threads: number, nsPerOp: number, r?: Measured): BenchRow => ({
  lock, mode, threads, nsPerOp: round3(nsPerOp), opsPerSec: Math.round(1e9 / nsPerOp),
  ...(r ? { rounds: { counted: r.counted.map(round3), dropped: r.dropped, itersPerThread: r.itersPerThread, overlaps: r.overlaps } } : {}),
  ...(r?.sleepsPerOp !== undefined ? { sleepsPerOp: Math.round(r.sleepsPerOp * 1000) / 1000 } : {}),
  ...(r?.waitsPerOp !== undefined ? { waitsPerOp: r.waitsPerOp.map((x) => Math.round(x * 1e4) / 1e4) } : {}),
});

/** measureRounds over one timed round per call (both sides), summing the sleeps and wait counts each round reports. */
async function timedRounds(once: () => Promise<RoundSample & { sleeps?: number; waits?: number[] }>, o: RoundsOptions): Promise<Measured> {
  let sleeps = 0, ops = 0, waitOps = 0;
  const waits = WAIT_COUNTS.map(() => 0);
  const res = await measureRounds(async () => {
    const r = await once();
    if (r.sleeps !== undefined) { sleeps += r.sleeps; ops += r.ops; }
    if (r.waits !== undefined) { r.waits.forEach((x, i) => { waits[i] += x; }); waitOps += r.ops; }
    return r;
  }, { ...o, minIters: 1, maxIters: 1 });
  return { ...res, sleepsPerOp: ops > 0 ? sleeps / ops : undefined, waitsPerOp: waitOps > 0 ? waits.map((x) => x / waitOps) : undefined };
}
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function newMachine(threads: number, instrumented: boolean): Machine {
  const machine = createMachine({
    threads, heapWords: 1 << 14, lockClasses: ['bench_spin', 'bench_rw'],
    profile: instrumented, lockdep: instrumented, regions: { torture: TC_WORDS + 8 },
  });
  attach(machine, 0);
  setProfiling(instrumented); setLockdep(instrumented); setLockTracing(instrumented);
  return machine;
}

/** The control block of the torture pool: the region, rounded up to 8 words. */
function ctlBase(): number { return Math.ceil(region('torture').base / 8) * 8; }

/** Uncontended pairs of one mode, in a worker thread of its own (pairs.ts says why). */
async function uncontended(quick: boolean, instrumented: boolean): Promise<BenchRow[]> {
  const mode = instrumented ? 'uncontended-instrumented' : 'uncontended';
  return (await measurePairs(quick, instrumented)).map((f) => row(f.name, mode, 1, f.nsPerPair));
}

/** Contended spinlock rounds on the lab's side: T workers, the same lock, counter++ inside. */
async function labRounds(threads: number, o: RoundsOptions): Promise<Measured> {
  const machine = newMachine(threads, false);
  const p = xzalloc(TORTURE);
  const lock = p + TORTURE.lock, counter = p + TORTURE.counter;
  spin_lock_init(lock, 1);
  const pool = await TorturePool.create(machine, Array.from({ length: threads }, (_, i) => i), ctlBase());
  try {
    // Timed rounds on both sides: with a fixed count per thread, 8 threads on 2 cores ran one after another (each
    // alone, uncontended) and no C round overlapped; with a deadline all threads are inside their loops together.
    return await timedRounds(async () => {
      M[counter] = 0;
      const job: Job = { kind: 'spin', lock, counter, iters: 0, untilHalt: true };
      const r = await pool.run(Array.from({ length: threads }, () => job), Math.max(60000, o.roundMs * 100), undefined, o.roundMs);
      const bad = r.results.find((x) => !x.ok);
      if (bad && !bad.ok) throw new Error(`cpu${bad.cpu}: ${bad.kind}: ${bad.message}`);
      const ops = r.results.reduce((n, x) => n + (x.ok ? x.reads : 0), 0);
      if (M[counter] !== ops) throw new Error(`lost update: counter ${M[counter]}, expected ${ops}`);
      const sleeps = r.results.reduce((n, x) => n + (x.ok ? x.sleeps : 0), 0);
      const waits = WAIT_COUNTS.map((_, i) => r.results.reduce((n, x) => n + (x.ok ? x.waits[i] : 0), 0));
      return { starts: r.starts, ends: r.ends, ops, ms: r.elapsedMs, sleeps, waits };
    }, o);
  } finally {
    await pool.close();
  }
}

function nativeRounds(ref: NativeReference, threads: number, policy: NativePolicy, o: RoundsOptions, holdNs = 0): Promise<Measured> {
  return timedRounds(async () => {
    const r = await ref.run('timed', o.roundMs, threads, Math.max(120000, o.roundMs * 200), policy, holdNs);
    return { starts: r.starts ?? [0], ends: r.ends ?? [r.ns], ops: r.ops, ms: r.ns / 1e6, sleeps: r.sleeps, waits: r.waits };
  }, o);
}

async function readMostly(threads: number, o: RoundsOptions): Promise<BenchRow> {
  const machine = newMachine(threads, false);
  const p = xzalloc(TORTURE);
  const lock = p + TORTURE.lock, state = p + TORTURE.state;
  rwlock_init(lock, 2);
  const pool = await TorturePool.create(machine, Array.from({ length: threads }, (_, i) => i), ctlBase());
  let seed = 1;
  try {
    // Timed rounds (all threads stop together at HALT): readers do not queue behind each other, so a fixed count
    // per thread would let the threads the OS favours finish early and leave the round.
    const r = await measureRounds(async () => {
      M.fill(0, state, state + 16);
      const job: Job = { kind: 'rw', lock, state, iters: 0, writePermille: 100, seed: seed++, untilHalt: true };
      const rs = await pool.run(Array.from({ length: threads }, () => job), 60000, undefined, o.roundMs);
      if (M[state + TS.ERRORS] !== 0) throw new Error(`rwlock: ${M[state + TS.ERRORS]} locktorture errors (reader saw a writer or vice versa)`);
      const ops = rs.results.reduce((n, x) => n + (x.ok ? x.reads + x.writes : 0), 0);
      if (M[state + TS.READS] + M[state + TS.WRITES] !== ops) throw new Error('rwlock: lost write');
      return { starts: rs.starts, ends: rs.ends, ops, ms: rs.elapsedMs };
    }, { ...o, minIters: 1, maxIters: 1 });
    return row('rwlock', 'read-mostly-90/10', threads, r.nsPerOp, r);
  } finally {
    await pool.close();
  }
}

/** How the last machine's lock words slept (every thread of a machine follows its first: lib/sched/futex.ts). */
const lockWaits = (): string => (useFutexLocks ? 'futex' : `Atomics${process.env.VPCI_FUTEX === 'sched' ? ' (VPCI_FUTEX=sched)' : ''}`);

const show = (r: RoundsResult): string =>
  `${r.counted.map((x) => x.toFixed(0)).join(' ')} ns (median ${r.nsPerOp.toFixed(0)}; ${r.itersPerThread} per thread; ` +
  `overlap ${r.overlaps.map((x) => x.toFixed(2)).join(' ')}; ${r.dropped} dropped)`;

export async function benchLocks(o: BenchOptions): Promise<BenchReport> {
  const rounds: RoundsOptions = { rounds: o.quick ? 3 : 5, roundMs: o.quick ? 250 : 400, minIters: 1000, maxIters: 20_000_000, maxAttempts: o.quick ? 8 : 12 };
  const results: BenchRow[] = [], reference: BenchRow[] = [];
  const loadStart = loadavg();
  const ref = await NativeReference.build();
  const note = ref instanceof NativeReference ? undefined : `C reference skipped: ${ref.skipped}`;
  try {
    o.log('uncontended (tinybench, one thread) ...');
    results.push(...await uncontended(o.quick, false));
    results.push(...await uncontended(o.quick, true));
    for (const r of results) o.log(`  ${r.lock} ${r.mode}: ${r.nsPerOp.toFixed(1)} ns`);
    // C futex holding its lock as long as the lab's raw pair costs beyond C's (a diagnostic row, not a goal): the
    // lab's contended gap with the pair's own cost taken out, what its waits and hand-overs add.
    let holdNs = 0;
    if (ref instanceof NativeReference) {
      const un: number[] = [];
      for (let i = 0; i < 5; i++) { const r = await ref.run('uncontended', o.quick ? 5_000_000 : 20_000_000); un.push(r.ns / r.ops); }
      reference.push(row('spinlock-c11', 'uncontended', 1, median(un)));
      o.log(`  C spinlock uncontended: ${un.map((x) => x.toFixed(1)).join(' ')} ns (median ${median(un).toFixed(1)})`);
      holdNs = Math.max(0, (results.find((r) => r.lock === 'spinlock' && r.mode === 'uncontended')?.nsPerOp ?? 0) - median(un));
    }
    for (const t of o.threads) {
      o.log(`contended spinlock, ${t} thread(s) ...`);
      const lab = await labRounds(t, rounds);
      o.log(`  lab:       ${show(lab)}`);
      results.push(row('spinlock', 'contended', t, lab.nsPerOp, lab));
      if (!(ref instanceof NativeReference)) continue;
      for (const policy of ['futex', 'v8wait', 'yield'] as const) {
        const c = await nativeRounds(ref, t, policy, rounds);
        o.log(`  C ${policy.padEnd(6)}:  ${show(c)}`);
        reference.push(row(`spinlock-c11-${policy}`, 'contended', t, c.nsPerOp, c));
      }
      if (holdNs > 0) {
        const c = await nativeRounds(ref, t, 'futex', rounds, holdNs);
        o.log(`  C futex + ${holdNs.toFixed(0)} ns held: ${show(c)}`);
        reference.push({ ...row('spinlock-c11-futex-hold', 'contended', t, c.nsPerOp, c), holdNs: round3(holdNs) });
      }
    }
    o.log('read-mostly rwlock 90/10, 4 threads ...');
    results.push(await readMostly(4, rounds));
  } finally {
    if (ref instanceof NativeReference) await ref.dispose();
  }
  return {
    cores: availableParallelism(), node: process.version, quick: o.quick, load: { start: loadStart, end: loadavg() }, results, reference,
    ...(note ? { referenceNote: note } : {}), waits: `scheduler futex ${futexStatus()}; lock words: ${lockWaits()}`, goals: goals(results, reference, note),
  };
}
