// bench locks's uncontended pairs run in a worker thread per mode (commands/bench/pairs.ts): each mode answers with
// its own tasks, and a failing worker is an error, not a hang.

import assert from 'node:assert/strict';
import { measurePairs } from '../../commands/bench/pairs.js';

describe('bench locks: uncontended pairs in a worker per mode', function () {
  this.timeout(60000);

  it('raw answers the three pairs and the atomics floor, instrumented the three pairs, each a positive figure', async () => {
    const raw = await measurePairs(true, false);
    const instr = await measurePairs(true, true);
    assert.deepEqual(raw.map((f) => f.name), ['spinlock', 'rwlock-read', 'rwlock-write', 'atomics-floor']);
    assert.deepEqual(instr.map((f) => f.name), ['spinlock', 'rwlock-read', 'rwlock-write']);
    for (const f of [...raw, ...instr]) assert.ok(Number.isFinite(f.nsPerPair) && f.nsPerPair > 0, `${f.name}: ${f.nsPerPair}`);
  });
});
