// The benchmark rules that decide what counts: the overlap of a contended round (same rule for the lab and C) and
// bench find's percentiles.

import assert from 'node:assert/strict';
import { overlapOf, measureRounds, MIN_OVERLAP } from '../bench/rounds.js';
import { percentile } from '../stress/find-bench.js';

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
});
