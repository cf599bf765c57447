// A thread's lock-time histograms (lib/sync/profile.ts): what takeLockHistograms hands to the main thread holds every
// timed hold once per trial, and attaching the next trial's machine empties them (profile.ts zeroes only the buckets
// it touched, so a bucket left over would show here as a count in the second trial).

import assert from 'node:assert/strict';
import { spin_lock, spin_unlock, spin_lock_init, SPINLOCK_WORDS } from '../../../lib/sync/index.js';
import { takeLockHistograms, HOLD_SAMPLE, type LockHistogramPairs } from '../../../lib/sync/profile.js';
import { boot, newLog, CLS } from '../../fixtures/sync-harness.js';

/** Sum of the counts of every (value, count) pair of a class's hold histogram. */
function holds(h: LockHistogramPairs | undefined, name: string): number {
  const xs = h?.[name]?.hold ?? [];
  let n = 0;
  for (let i = 1; i < xs.length; i += 2) n += xs[i];
  return n;
}

function trial(pairs: number): LockHistogramPairs | undefined {
  boot({ profile: true, lockdep: false });
  const l = newLog(SPINLOCK_WORDS);
  spin_lock_init(l, CLS.SPIN);
  for (let i = 0; i < pairs; i++) { spin_lock(l); spin_unlock(l); }
  return takeLockHistograms();
}

describe('lock histograms per thread', () => {
  it('count each timed hold HOLD_SAMPLE times, in ascending values, and start empty on the next attach', () => {
    const pairs = 40 * HOLD_SAMPLE;
    const first = trial(pairs);
    const n = holds(first, 'torture_spin');
    // One hold in HOLD_SAMPLE is timed and counted HOLD_SAMPLE times (the countdown carries over between trials).
    assert.ok(n >= (pairs - HOLD_SAMPLE) && n <= pairs + HOLD_SAMPLE, `hold counts ${n} for ${pairs} holds`);
    const values = (first?.torture_spin?.hold ?? []).filter((_, i) => i % 2 === 0);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), 'ascending values');
    const second = trial(pairs);
    assert.ok(Math.abs(holds(second, 'torture_spin') - n) <= HOLD_SAMPLE, 'the second trial counts only its own holds');
    boot({ profile: true, lockdep: false });
    assert.equal(takeLockHistograms(), undefined, 'nothing left over after attach');
  });
});
