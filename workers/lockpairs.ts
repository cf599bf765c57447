// Uncontended lock pairs for `vpci-lab bench locks`, one worker_thread per side (raw, instrumented): each side runs
// in an isolate of its own, so the raw fast paths are compiled from raw feedback only, as in a process that never
// turns instrumentation on; the bench alternates short rounds of the two sides, so the ratio it reports compares
// moments of the same machine load. A round is one tinybench run; the result is ns per pair by task name.

import { parentPort, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { attach, M, type Machine } from '../lib/mem/machine.js';
import {
  spin_lock, spin_unlock, read_lock, read_unlock, write_lock, write_unlock, setProfiling, setLockdep, setLockTracing,
} from '../lib/sync/index.js';

/** The side's machine and lock words (made and initialised by the bench), and whether it is instrumented. */
export interface PairsBoot { machine: Machine; instrumented: boolean; sp: number; c: number; rw: number; floor: number }
export interface PairsRound { time: number; warmupTime: number }
export type PairsResult = { ok: true; ns: Array<[string, number]> } | { ok: false; message: string };

/** Lock/unlock pairs per tinybench task call. */
export const PAIRS_K = 1000;
const K = PAIRS_K;

async function round(b: PairsBoot, o: PairsRound): Promise<Array<[string, number]>> {
  const { sp, c, rw, floor } = b;
  const bench = new Bench({ time: o.time, warmupTime: o.warmupTime, iterations: 8 });
  bench
    .add('spinlock', () => { for (let i = 0; i < K; i++) { spin_lock(sp); M[c] = M[c] + 1; spin_unlock(sp); } })
    .add('rwlock-read', () => { for (let i = 0; i < K; i++) { read_lock(rw); read_unlock(rw); } })
    .add('rwlock-write', () => { for (let i = 0; i < K; i++) { write_lock(rw); write_unlock(rw); } });
  if (!b.instrumented) {
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
    return [task.name, (r.latency.p50 * 1e6) / K];
  });
}

function main(b: PairsBoot): void {
  const port = parentPort!;
  attach(b.machine, 0);
  setProfiling(b.instrumented); setLockdep(b.instrumented); setLockTracing(b.instrumented);
  port.on('message', (o: PairsRound) => {
    round(b, o).then((ns) => port.postMessage({ ok: true, ns } satisfies PairsResult),
      (e: unknown) => port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) } satisfies PairsResult));
  });
  port.postMessage({ online: true });
}

if (parentPort && (workerData as { lockpairs?: PairsBoot } | undefined)?.lockpairs) {
  main((workerData as { lockpairs: PairsBoot }).lockpairs);
}
