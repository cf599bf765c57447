// bench locks' uncontended pairs (commands/bench/locks.ts uncontended, workers/lockpairs.ts): both sides run in
// workers of their own and come back as one row per pair and mode. Figures are printed by the bench, never asserted.

import assert from 'node:assert/strict';
import { uncontended } from '../../commands/bench/locks.js';

describe('bench locks: uncontended pairs in alternating workers', function () {
  this.timeout(60000);

  it('returns every pair raw and instrumented, and the floor raw only, each a positive figure', async () => {
    const rows = await uncontended(true, 2, 20);
    assert.deepEqual(rows.map((r) => `${r.mode}/${r.lock}`), [
      'uncontended/spinlock', 'uncontended/rwlock-read', 'uncontended/rwlock-write', 'uncontended/atomics-floor',
      'uncontended-instrumented/spinlock', 'uncontended-instrumented/rwlock-read', 'uncontended-instrumented/rwlock-write',
    ]);
    for (const r of rows) assert.ok(r.nsPerOp > 0 && Number.isFinite(r.nsPerOp), `${r.lock} ${r.mode}: ${r.nsPerOp}`);
  });
});
