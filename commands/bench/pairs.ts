// `bench locks`'s uncontended pairs, each mode (raw, instrumented) measured in a worker thread of its own. In one
// isolate the second mode ran through functions whose type feedback and optimised code the first had shaped:
// spin_lock holds both paths, so the instrumented pair was compiled with the raw path's calls inlined into the same
// inlining budget, which no stress run (instrumented from its first lock) ever does.

import { Worker, parentPort, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { attach, createMachine, M } from '../../lib/mem/machine.js';
import { xzalloc } from '../../lib/mem/heap.js';
import {
  spin_lock, spin_unlock, spin_lock_init, read_lock, read_unlock, write_lock, write_unlock, rwlock_init, setLockTracing,
  setProfiling, setLockdep,
} from '../../lib/sync/index.js';
import { TORTURE, TC_WORDS } from '../../workers/locktorture.js';

const K = 1000; // lock/unlock pairs per tinybench task call

/** One task's median per pair (ns). */
export interface PairFigure { name: string; nsPerPair: number }
interface PairsJob { pairs: { quick: boolean; instrumented: boolean } }

/** The pairs of one mode, in this thread (a fresh worker: see the header). */
async function measure(quick: boolean, instrumented: boolean): Promise<PairFigure[]> {
  const machine = createMachine({
    threads: 1, heapWords: 1 << 14, lockClasses: ['bench_spin', 'bench_rw'],
    profile: instrumented, lockdep: instrumented, regions: { torture: TC_WORDS + 8 },
  });
  attach(machine, 0);
  setProfiling(instrumented); setLockdep(instrumented); setLockTracing(instrumented);
  const t = xzalloc(TORTURE);
  const sp = t + TORTURE.lock, c = t + TORTURE.counter;
  const rw = xzalloc(TORTURE) + TORTURE.lock;
  const floor = xzalloc(TORTURE) + TORTURE.lock;
  spin_lock_init(sp, 1);
  rwlock_init(rw, 2);
  const bench = new Bench({ time: quick ? 300 : 1000, warmupTime: quick ? 150 : 300, iterations: 32 });
  bench
    .add('spinlock', () => { for (let i = 0; i < K; i++) { spin_lock(sp); M[c] = M[c] + 1; spin_unlock(sp); } })
    .add('rwlock-read', () => { for (let i = 0; i < K; i++) { read_lock(rw); read_unlock(rw); } })
    .add('rwlock-write', () => { for (let i = 0; i < K; i++) { write_lock(rw); write_unlock(rw); } });
  if (!instrumented) {
    // The least a ticket pair can cost from JavaScript: fetch-and-add to take, compare-exchange to release.
    bench.add('atomics-floor', () => {
      for (let i = 0; i < K; i++) {
        const old = Atomics.add(M, floor, 0x10000);
        M[c] = M[c] + 1;
        const h = old & 0xffff, n = (h + 1) & 0xffff;
        Atomics.compareExchange(M, floor, (n << 16) | h, (n << 16) | n);
      }
    });
  }
  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`tinybench task ${task.name}: ${r.state}${'error' in r ? `: ${r.error.message}` : ''}`);
    return { name: task.name, nsPerPair: (r.latency.p50 * 1e6) / K };
  });
}

/** The pairs of one mode, measured in a new worker thread. */
export function measurePairs(quick: boolean, instrumented: boolean): Promise<PairFigure[]> {
  return new Promise((resolve, reject) => {
    const job: PairsJob = { pairs: { quick, instrumented } };
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    let done = false;
    w.once('message', (m: { ok: true; figures: PairFigure[] } | { ok: false; error: string }) => {
      done = true;
      if (m.ok) resolve(m.figures); else reject(new Error(m.error));
    });
    w.once('error', (e) => { done = true; reject(e); });
    w.once('exit', (code) => { if (!done) reject(new Error(`pairs worker exited with code ${code}`)); });
  });
}

if (parentPort && (workerData as PairsJob | undefined)?.pairs) {
  const { quick, instrumented } = (workerData as PairsJob).pairs;
  const port = parentPort;
  measure(quick, instrumented).then(
    (figures) => port.postMessage({ ok: true, figures }),
    (e: unknown) => port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
}
