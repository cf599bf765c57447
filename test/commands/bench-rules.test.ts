// The benchmark rules that decide what counts: the overlap of a contended round (same rule for the lab and C) and
// bench find's percentiles.

import assert from 'node:assert/strict';
import { overlapOf, measureRounds, MIN_OVERLAP } from '../../lib/run/rounds.js';
import { percentile } from '../../lib/explore/find.js';
import { goals, formatReport, type BenchRow } from '../../report/locks-table.js';
import { NativeReference } from '../../commands/bench/reference.js';
import { WAIT_COUNTS } from '../../lib/sync/index.js';

describe('benchmark rules', () => {
  it('overlap is the share of the round during which every thread was inside its loop', () => {
    assert.equal(overlapOf([0, 0], [100, 100]), 1);
    assert.equal(overlapOf([0, 50], [100, 150]), 50 / 150);
    assert.equal(overlapOf([0, 100], [100, 200]), 0, 'one after another: no overlap');
    assert.equal(overlapOf([5], [9]), 1);
  });

  it('drops rounds below the overlap or length rule and counts the rest', async () => {
    let k = 0;
    const r = await measureRounds(async (iters) => {
      k++;
      const ms = 300;
      const late = k % 2 === 0 ? 0 : ms * (1 - MIN_OVERLAP) * 2; // every other round overlaps too little
      return { starts: [0, late], ends: [ms, ms], ops: iters * 2, ms };
    }, { rounds: 3, roundMs: 300, minIters: 10, maxIters: 10, maxAttempts: 10 });
    assert.equal(r.counted.length, 3);
    assert.ok(r.dropped >= 2, `dropped ${r.dropped}`);
    for (const o of r.overlaps) assert.ok(o >= MIN_OVERLAP);
  });

  it('percentile is nearest-rank', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 90), 18);
    assert.equal(percentile(xs, 50), 10);
    assert.equal(percentile([7], 90), 7);
  });

  it('the uncontended pair is also held to the atomics floor and the instrumented pair to the raw one (issue 25)', () => {
    const row = (lock: string, mode: string, nsPerOp: number): BenchRow => ({ lock, mode, threads: 1, nsPerOp, opsPerSec: 1e9 / nsPerOp });
    const g = goals([row('spinlock', 'uncontended', 30), row('atomics-floor', 'uncontended', 18), row('spinlock', 'uncontended-instrumented', 95)], []);
    assert.deepEqual(g.filter((x) => x.value !== null).map((x) => [x.goal, x.value, x.met]), [
      ['uncontended spin_lock+spin_unlock <= 1.5x the atomics floor', 1.67, false],
      ['instrumented spin_lock+spin_unlock <= 3x raw', 3.17, false],
    ]);
  });

  it('lock goals are ratios to the C futex reference of the same run; the v8wait column is shown beside it', () => {
    const row = (lock: string, threads: number, nsPerOp: number): BenchRow => ({ lock, mode: threads === 1 ? 'uncontended' : 'contended', threads, nsPerOp, opsPerSec: 1e9 / nsPerOp });
    const results = [row('spinlock', 1, 30), row('spinlock', 8, 30_000)];
    const reference = [row('spinlock-c11', 1, 12), row('spinlock-c11-futex', 8, 6_000), row('spinlock-c11-v8wait', 8, 7_500), row('spinlock-c11-yield', 8, 1_000)];
    const g = goals(results, reference);
    assert.deepEqual(g.map((x) => [x.goal, x.value, x.met]), [['contended, 8 threads <= 3x C per acquisition', 5, false]], 'no goal against C\'s uncontended pair');
    const text = formatReport({ cores: 2, node: 'v20', quick: true, results, reference, goals: g });
    assert.match(text, /^8 +30000 +- +6000 +- +5\.00x +7500 +- +4\.00x +1000 +-$/m);
    assert.match(text, /NOT MET +contended, 8 threads <= 3x C per acquisition/);
    assert.doesNotMatch(text, /slept/, 'no sleep counts, no sleep table');
    results[1].sleepsPerOp = 1.05; reference[1].sleepsPerOp = 0.13; reference[2].sleepsPerOp = 0.6;
    assert.match(formatReport({ cores: 2, node: 'v20', quick: true, results, reference, goals: g }), /^8 +1\.050 +0\.130 +0\.600$/m);
    results[1].waitsPerOp = [0.9, 3.5, 0.4, 0.39, 0, 1.2, 400, 0.4, 0.7, 0.25, 1.5];
    assert.match(formatReport({ cores: 2, node: 'v20', quick: true, results, reference, goals: g }), /^8 +lab +0\.9000 +3\.5000 +0\.4000 +0\.3900 +0\.0000 +1\.2000 +400\.0 +0\.4000 +0\.7000 +0\.2500 +1\.5000$/m);
    results[1].waitsPerOp = [0.9, 3.5, 0.4, 0.39, 0, 1.2, 400, 0.4, 0.7]; // written before the admission counts
    assert.match(formatReport({ cores: 2, node: 'v20', quick: true, results, reference, goals: g }), /^8 +lab +0\.9000 .* +0\.7000 +- +-$/m);
  });

  it('the contended ratios are shown against one thread and against C holding its lock as long as the lab\'s pair costs', () => {
    const row = (lock: string, threads: number, nsPerOp: number): BenchRow => ({ lock, mode: 'contended', threads, nsPerOp, opsPerSec: 1e9 / nsPerOp });
    const results = [row('spinlock', 1, 50), row('spinlock', 4, 4000)];
    const reference = [row('spinlock-c11-futex', 1, 5), row('spinlock-c11-futex', 4, 100), { ...row('spinlock-c11-futex-hold', 4, 1000), holdNs: 40 }];
    const text = formatReport({ cores: 2, node: 'v20', quick: true, results, reference, goals: goals(results, reference) });
    assert.match(text, /C holding its lock 40 ns longer/);
    assert.match(text, /^1 +10\.00x +1\.00x +- +-$/m);
    assert.match(text, /^4 +40\.00x +4\.00x +1000 +4\.00x$/m, 'lab / C 40x is 4x the one-thread ratio, and 4x C holding as long');
  });

  it('the C reference runs every wait policy with no lost update (skipped without a C compiler)', async function () {
    this.timeout(60_000);
    const ref = await NativeReference.build();
    if (!(ref instanceof NativeReference)) this.skip();
    const native = ref as NativeReference;
    try {
      for (const policy of ['futex', 'v8wait', 'yield'] as const) {
        // ticket.c exits non-zero on a lost update. Its figure counts only the window where all four threads ran
        // (the overlap rule): on a busy machine a 60 ms run can start its threads 80 ms apart and count nothing,
        // so a run with no overlap is taken again, longer.
        let r = await native.run('timed', 60, 4, 30_000, policy);
        for (let ms = 250; r.ops === 0 && ms <= 1000; ms *= 2) r = await native.run('timed', ms, 4, 30_000, policy);
        assert.equal(r.threads, 4);
        assert.ok(r.ops > 0 && r.starts?.length === 4 && r.ends?.length === 4, JSON.stringify(r));
        assert.ok(Number.isInteger(r.sleeps) && r.sleeps! >= 0 && (policy !== 'yield' || r.sleeps === 0), `sleeps ${r.sleeps}`);
        // The same wait counts as lib/sync/wait.ts, in its order: sleeps agree, a spin that ran out began, yield has none.
        const w = r.waits!;
        assert.equal(w.length, WAIT_COUNTS.length);
        assert.equal(w[WAIT_COUNTS.indexOf('sleeps')], r.sleeps);
        assert.ok(w[WAIT_COUNTS.indexOf('spinOut')] <= w[WAIT_COUNTS.indexOf('spins')] && w[WAIT_COUNTS.indexOf('spins')] <= w[0], JSON.stringify(w));
        if (policy === 'yield') assert.equal(w.slice(2).reduce((a, x) => a + x, 0), 0);
      }
      // HOLD_NS: a busy wait inside the critical section makes each acquisition of one thread take at least that long.
      const one = await native.run('timed', 60, 1, 30_000, 'futex', 2000);
      assert.ok(one.ops > 0 && one.ns / one.ops >= 1500, `${one.ns / one.ops} ns per acquisition holding 2000 ns`);
    } finally {
      await native.dispose();
    }
  });
});
