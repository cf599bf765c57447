// `vpci-lab bench locks`: the cost of the lab's Xen-faithful locks on real threads, next to the same ticket lock
// in C11 atomics (bench/ref/ticket.c) run in the same invocation.
//
// - Uncontended pairs (spin_lock+spin_unlock, read_lock+read_unlock, write_lock+write_unlock) on one thread, with
//   tinybench: each task call runs K pairs, and the per-pair figure is tinybench's median latency / K. Measured raw
//   (lock profiling, lockdep and flight-recorder lock events switched off, as for a speed run) and instrumented
//   (all three on, the lab's default).
// - Contended: T worker_threads (workers/locktorture.ts) each take the same spinlock `iters` times, critical section
//   = non-atomic increment of a shared counter on its own cache line (checked: a lost update fails the bench).
//   Per-acquisition ns = wall time from the common start to the last thread's end / total acquisitions. The
//   iteration count is calibrated so that a round lasts about ROUND_MS; the figure is the median of several rounds.
// - Read-mostly: 4 threads on one rwlock, 90% read sections / 10% write sections, with locktorture's checks (a
//   reader never sees a writer, a writer never sees anyone); per-section ns.

import { availableParallelism } from 'node:os';
import { Bench } from 'tinybench';
import { attach, createMachine, region, M, type Machine } from '../lib/mem/machine.js';
import { xzalloc } from '../lib/mem/heap.js';
import {
  spin_lock, spin_unlock, spin_lock_init, read_lock, read_unlock, write_lock, write_unlock, rwlock_init, setLockTracing,
} from '../lib/sync/index.js';
import { TORTURE, TS, TC_WORDS, type Job } from '../workers/locktorture.js';
import { TorturePool } from './torture.js';
import { NativeReference } from './reference.js';

export interface BenchRow { lock: string; mode: string; threads: number; nsPerOp: number; opsPerSec: number }
export interface Goal { goal: string; value: number | null; limit: number; met: boolean | null; detail: string }
export interface BenchReport {
  cores: number;
  node: string;
  quick: boolean;
  results: BenchRow[];
  reference: BenchRow[];
  referenceNote?: string;
  goals: Goal[];
}

export interface BenchOptions {
  quick: boolean;
  /** Thread counts of the contended spinlock mode. */
  threads: number[];
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

const K = 1000; // lock/unlock pairs per tinybench task call

const row = (lock: string, mode: string, threads: number, nsPerOp: number): BenchRow =>
  ({ lock, mode, threads, nsPerOp: round3(nsPerOp), opsPerSec: Math.round(1e9 / nsPerOp) });
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function newMachine(threads: number, instrumented: boolean): Machine {
  const machine = createMachine({
    threads, heapWords: 1 << 14, lockClasses: ['bench_spin', 'bench_rw'],
    profile: instrumented, lockdep: instrumented, regions: { torture: TC_WORDS + 8 },
  });
  attach(machine, 0);
  setLockTracing(instrumented);
  return machine;
}

/** The control block of the torture pool: the region, rounded up to 8 words. */
function ctlBase(): number { return Math.ceil(region('torture').base / 8) * 8; }

async function uncontended(quick: boolean, instrumented: boolean): Promise<BenchRow[]> {
  newMachine(1, instrumented);
  const sp = xzalloc(TORTURE) + TORTURE.lock;
  const rw = xzalloc(TORTURE) + TORTURE.lock;
  spin_lock_init(sp, 1);
  rwlock_init(rw, 2);
  const bench = new Bench({ time: quick ? 300 : 1000, warmupTime: quick ? 150 : 300, iterations: 32 });
  bench
    .add('spinlock', () => { for (let i = 0; i < K; i++) { spin_lock(sp); spin_unlock(sp); } })
    .add('rwlock-read', () => { for (let i = 0; i < K; i++) { read_lock(rw); read_unlock(rw); } })
    .add('rwlock-write', () => { for (let i = 0; i < K; i++) { write_lock(rw); write_unlock(rw); } });
  if (instrumented) { bench.remove('rwlock-read'); bench.remove('rwlock-write'); }
  await bench.run();
  const mode = instrumented ? 'uncontended-instrumented' : 'uncontended';
  return bench.tasks.map((t) => {
    const r = t.result;
    if (r.state !== 'completed') throw new Error(`tinybench task ${t.name}: ${r.state}${'error' in r ? `: ${r.error.message}` : ''}`);
    return row(t.name, mode, 1, (r.latency.p50 * 1e6) / K);
  });
}

interface Contended { rounds: number; roundMs: number; log: (s: string) => void }

/**
 * Per-thread iteration count for rounds of about roundMs: grow from a small count until a run takes a third of
 * that (these runs double as JIT warm-up), then scale. `once(iters)` returns ns per operation.
 */
export async function calibrate(once: (iters: number) => Promise<number>, threads: number, roundMs: number, minIters: number, maxIters: number): Promise<number> {
  let iters = minIters;
  for (let k = 0; k < 8; k++) {
    const ns = await once(iters);
    const ms = (ns * iters * threads) / 1e6;
    if (ms >= roundMs / 3 || iters >= maxIters) return Math.min(maxIters, Math.max(minIters, Math.round((iters * roundMs) / Math.max(ms, 1e-3))));
    iters = Math.min(maxIters, iters * Math.min(16, Math.max(2, Math.ceil(roundMs / 3 / Math.max(ms, 1e-3)))));
  }
  return iters;
}

/** Rounds whose workers overlapped less than this ran (partly) one after another: not a contended measurement. */
const MIN_OVERLAP = 0.8;

/**
 * Calibrate, then the median of `rounds` rounds (ns per op). A round whose workers did not run side by side
 * (overlap < MIN_OVERLAP) is discarded and run again with twice the iterations (at most 3 times per round, and
 * only while the mode has taken less than 40 round times).
 */
async function measureRounds(
  pool: TorturePool, threads: number, jobFor: (iters: number) => Job, check: (iters: number) => void, c: Contended,
): Promise<number> {
  let lastOverlap = 1;
  const once = async (iters: number): Promise<number> => {
    const jobs = Array.from({ length: threads }, () => jobFor(iters));
    const r = await pool.run(jobs, Math.max(30000, c.roundMs * 40));
    const bad = r.results.find((x) => !x.ok);
    if (bad && !bad.ok) throw new Error(`cpu${bad.cpu}: ${bad.kind}: ${bad.message}`);
    check(iters);
    lastOverlap = r.overlap;
    return (r.elapsedMs * 1e6) / (iters * threads);
  };
  const t0 = Date.now();
  let iters = await calibrate(once, threads, c.roundMs, 1000, 2_000_000);
  const xs: number[] = [];
  let discarded = 0;
  for (let i = 0; i < c.rounds; i++) {
    let ns = await once(iters);
    for (let retry = 0; retry < 3 && threads > 1 && lastOverlap < MIN_OVERLAP && Date.now() - t0 < c.roundMs * 40; retry++) {
      discarded++;
      iters = Math.min(4_000_000, iters * 2);
      ns = await once(iters);
    }
    xs.push(ns);
  }
  c.log(`    ${threads} threads × ${iters}: ${xs.map((x) => x.toFixed(0)).join(' ')} ns (median ${median(xs).toFixed(0)})` +
    (discarded ? `; ${discarded} round(s) discarded: the workers had not run side by side` : ''));
  return median(xs);
}

async function contendedSpin(threads: number, c: Contended): Promise<BenchRow> {
  const machine = newMachine(threads, false);
  const p = xzalloc(TORTURE);
  const lock = p + TORTURE.lock, counter = p + TORTURE.counter;
  spin_lock_init(lock, 1);
  const pool = await TorturePool.create(machine, Array.from({ length: threads }, (_, i) => i), ctlBase());
  try {
    const ns = await measureRounds(pool, threads,
      (iters) => { M[counter] = 0; return { kind: 'spin', lock, counter, iters }; },
      (iters) => { if (M[counter] !== iters * threads) throw new Error(`lost update: counter ${M[counter]}, expected ${iters * threads}`); },
      c);
    return row('spinlock', 'contended', threads, ns);
  } finally {
    await pool.close();
  }
}

async function readMostly(threads: number, c: Contended): Promise<BenchRow> {
  const machine = newMachine(threads, false);
  const p = xzalloc(TORTURE);
  const lock = p + TORTURE.lock, state = p + TORTURE.state;
  rwlock_init(lock, 2);
  const pool = await TorturePool.create(machine, Array.from({ length: threads }, (_, i) => i), ctlBase());
  let seed = 1;
  try {
    const ns = await measureRounds(pool, threads,
      (iters) => { M.fill(0, state, state + 16); return { kind: 'rw', lock, state, iters, writePermille: 100, seed: seed++ }; },
      (iters) => {
        if (M[state + TS.ERRORS] !== 0) throw new Error(`rwlock: ${M[state + TS.ERRORS]} locktorture errors (reader saw a writer or vice versa)`);
        if (M[state + TS.READS] + M[state + TS.WRITES] !== iters * threads) throw new Error('rwlock: lost write');
      },
      c);
    return row('rwlock', 'read-mostly-90/10', threads, ns);
  } finally {
    await pool.close();
  }
}

async function reference(o: BenchOptions, rounds: number, roundMs: number): Promise<{ rows: BenchRow[]; note?: string }> {
  const ref = await NativeReference.build();
  if (!(ref instanceof NativeReference)) return { rows: [], note: `C reference skipped: ${ref.skipped}` };
  try {
    const rows: BenchRow[] = [];
    const n = o.quick ? 5_000_000 : 20_000_000;
    const un: number[] = [];
    for (let i = 0; i < rounds; i++) { const r = await ref.run('uncontended', n); un.push(r.ns / r.ops); }
    rows.push(row('spinlock-c11', 'uncontended', 1, median(un)));
    o.log(`  C uncontended: ${un.map((x) => x.toFixed(1)).join(' ')} ns (median ${median(un).toFixed(1)})`);
    for (const t of o.threads) {
      const per = await calibrate(async (iters) => { const r = await ref.run('contended', iters, t); return r.ns / r.ops; }, t, roundMs, 1000, 20_000_000);
      const xs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const r = await ref.run('contended', per, t, Math.max(60000, roundMs * 100));
        xs.push(r.ns / r.ops);
      }
      o.log(`  C contended ${t} threads × ${per}: ${xs.map((x) => x.toFixed(0)).join(' ')} ns (median ${median(xs).toFixed(0)})`);
      rows.push(row('spinlock-c11', 'contended', t, median(xs)));
    }
    return { rows };
  } finally {
    await ref.dispose();
  }
}

export async function benchLocks(o: BenchOptions): Promise<BenchReport> {
  const rounds = o.quick ? 5 : 9;
  const roundMs = o.quick ? 150 : 400;
  const c: Contended = { rounds, roundMs, log: o.log };
  const results: BenchRow[] = [];

  o.log('uncontended (tinybench, one thread) ...');
  results.push(...await uncontended(o.quick, false));
  results.push(...await uncontended(o.quick, true));
  for (const r of results) o.log(`  ${r.lock} ${r.mode}: ${r.nsPerOp.toFixed(1)} ns`);

  o.log('contended spinlock (worker_threads) ...');
  for (const t of o.threads) results.push(await contendedSpin(t, c));
  o.log('read-mostly rwlock 90/10, 4 threads ...');
  results.push(await readMostly(4, c));

  o.log('C11 reference (bench/ref/ticket.c) ...');
  const ref = await reference(o, o.quick ? 3 : 5, roundMs);

  return {
    cores: availableParallelism(), node: process.version, quick: o.quick,
    results, reference: ref.rows, ...(ref.note ? { referenceNote: ref.note } : {}),
    goals: goals(results, ref.rows, ref.note),
  };
}

function find(rows: readonly BenchRow[], lock: string, mode: string, threads: number): number | undefined {
  return rows.find((r) => r.lock === lock && r.mode === mode && r.threads === threads)?.nsPerOp;
}

/** The goals of the foundation issue, as ratios. */
export function goals(results: readonly BenchRow[], reference: readonly BenchRow[], refNote?: string): Goal[] {
  const out: Goal[] = [];
  const ratio = (goal: string, a: number | undefined, b: number | undefined, limit: number, what: string, missing: string): void => {
    if (a === undefined || b === undefined) { out.push({ goal, value: null, limit, met: null, detail: missing }); return; }
    const v = Math.round((a / b) * 100) / 100;
    out.push({ goal, value: v, limit, met: v <= limit, detail: `${what}: ${a.toFixed(1)} / ${b.toFixed(1)} ns = ${v.toFixed(2)}x` });
  };
  const noRef = refNote ?? 'no C reference row';
  ratio('uncontended spin_lock+spin_unlock <= 2.5x C', find(results, 'spinlock', 'uncontended', 1), find(reference, 'spinlock-c11', 'uncontended', 1), 2.5,
    'lab (raw) / C per pair', noRef);
  ratio('contended, 2 threads <= 4x C per acquisition', find(results, 'spinlock', 'contended', 2), find(reference, 'spinlock-c11', 'contended', 2), 4,
    'lab / C per acquisition', refNote ?? 'needs 2 in --threads');
  ratio('8 threads <= 3x our 2-thread figure', find(results, 'spinlock', 'contended', 8), find(results, 'spinlock', 'contended', 2), 3,
    'lab 8 threads / lab 2 threads', 'needs 2 and 8 in --threads');
  return out;
}

export function formatReport(r: BenchReport): string {
  const lines: string[] = [];
  const refOf = (x: BenchRow): number | undefined =>
    x.lock === 'spinlock' && (x.mode === 'uncontended' || x.mode === 'contended') ? find(r.reference, 'spinlock-c11', x.mode, x.threads) : undefined;
  const head = ['lock', 'mode', 'threads', 'ns/op', 'ops/s', 'C ns/op', 'vs C'];
  const body = r.results.map((x) => {
    const c = refOf(x);
    return [x.lock, x.mode, String(x.threads), x.nsPerOp.toFixed(1), fmtOps(x.opsPerSec), c === undefined ? '-' : c.toFixed(1), c === undefined ? '-' : `${(x.nsPerOp / c).toFixed(2)}x`];
  });
  for (const x of r.reference) body.push([x.lock, x.mode, String(x.threads), x.nsPerOp.toFixed(1), fmtOps(x.opsPerSec), '', '']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]): string => cells.map((s, i) => (i >= 2 ? s.padStart(w[i]) : s.padEnd(w[i]))).join('  ');
  lines.push(`vpci-lab bench locks — ${r.cores} cores, node ${r.node}${r.quick ? ', --quick' : ''}`);
  lines.push(fmt(head));
  lines.push(w.map((n) => '-'.repeat(n)).join('  '));
  for (const b of body) lines.push(fmt(b));
  if (r.referenceNote) lines.push(`note: ${r.referenceNote}`);
  lines.push('');
  lines.push('goals:');
  for (const g of r.goals) {
    const status = g.met === null ? 'n/a' : g.met ? 'met' : 'NOT MET';
    lines.push(`  ${status.padEnd(7)}  ${g.goal}: ${g.detail}`);
  }
  return lines.join('\n');
}

function fmtOps(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}
