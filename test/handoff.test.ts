// The controlled scheduler's spin-then-park handoff (lib/sched/spin.ts, controlled.ts) under more threads than
// cores, and lock profiling's buckets (lib/sync/profile.ts) against the HdrHistogram they stand for. Every trial
// has a wall-clock budget: a lost wakeup shows as a hang, never as a stuck test.

import assert from 'node:assert/strict';
import { createPool, runTrial, type TrialPool } from '../lib/run/index.js';
import { M } from '../lib/mem/machine.js';
import { SCHED_HEADER, schedBase } from '../lib/sched/state.js';
import { newHistogram, HOLD_SAMPLE, bucketCount, bucketPairs, BUCKET_INDEXES } from '../lib/sync/profile.js';
import { basicMachine, data, DATA } from './fixtures/actors-basic.js';

const ACTORS = new URL('./fixtures/actors-basic.js', import.meta.url).href;
const actor = (exp: string, arg?: unknown) => ({ module: ACTORS, export: exp, arg });

describe('spin-then-park handoffs (real workers, more threads than cores)', function () {
  this.timeout(120_000);
  const pools: TrialPool[] = [];
  after(async () => { await Promise.all(pools.map((p) => p.close())); });

  // VPCI_CORES=16 lets every waiting thread poll: the most polling places the protocol must hand around.
  for (const [label, cores] of [['as many polling places as threads', '16'], ['this machine\'s cores', undefined]] as const) {
    it(`8 threads, ${label}: every run completes, one thread at a time, every polling place returned`, async () => {
      const saved = process.env.VPCI_CORES;
      if (cores === undefined) delete process.env.VPCI_CORES; else process.env.VPCI_CORES = cores;
      const pool = createPool(8);                          // workers copy the environment when they start
      pools.push(pool);
      if (saved === undefined) delete process.env.VPCI_CORES; else process.env.VPCI_CORES = saved;
      for (let run = 0; run < 12; run++) {
        const m = basicMachine(8);
        const r = await runTrial(pool, m, Array.from({ length: 8 }, () => actor('exclusive', { iters: 40 })), {
          mode: 'controlled', chooser: run % 2 ? 'pct' : 'random', seed: 500 + run, budgetMs: 30_000, spin: 'auto',
        });
        assert.equal(r.outcome, 'ok', `run ${run}: ${r.outcome} ${r.hang?.detail ?? ''}`);
        assert.equal(data(DATA.maxInside), 1, 'two threads were inside at once');
        assert.ok(r.threads.every((t) => t.status === 'done' && t.value === 40));
        assert.equal(M[schedBase + SCHED_HEADER.SPINNERS], 0, 'a polling place was not given back');
      }
    });
  }

  it('a crash mid-run stops pollers and sleepers alike (no thread left waiting)', async () => {
    const pool = createPool(6);
    pools.push(pool);
    for (let run = 0; run < 6; run++) {
      const m = basicMachine(6);
      const acts = [actor('crashAfter', { steps: 20 + run }), ...Array.from({ length: 5 }, () => actor('yieldLoop', { n: 100_000 }))];
      const r = await runTrial(pool, m, acts, { mode: 'controlled', seed: 40 + run, budgetMs: 30_000, spin: 'auto' });
      assert.equal(r.outcome, 'null-deref');
      assert.equal(r.aborted, 0, 'a worker had to be aborted');
    }
  });
});

describe('lock profiling buckets', () => {
  it('give the (value, count) pairs an HdrHistogram of the same values gives', () => {
    const values = [0, 1, 2, 127, 128, 255, 256, 257, 511, 512, 1000, 65_535, 1e6, 123_456_789, 2 ** 31 - 1, 2 ** 31, 5e9];
    let x = 12345;
    for (let i = 0; i < 2000; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; values.push(x % (1 << (i % 31))); }
    const h = newHistogram();
    const b = new Int32Array(BUCKET_INDEXES);
    for (const v of values) { h.recordValue(v); bucketCount(b, v, 1); }
    const want: number[] = [];
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) { const v = it.next(); want.push(v.valueIteratedTo, v.countAtValueIteratedTo); }
    assert.deepEqual(bucketPairs(b), want);
  });

  it('count a weighted value as that many of it', () => {
    const h = newHistogram();
    const b = new Int32Array(BUCKET_INDEXES);
    h.recordValueWithCount(777, HOLD_SAMPLE);
    bucketCount(b, 777, HOLD_SAMPLE);
    const p = bucketPairs(b)!;
    assert.equal(p.length, 2);
    assert.equal(p[1], HOLD_SAMPLE);
    assert.equal(h.getValueAtPercentile(50), p[0]);
  });
});
