// The machine's memory plumbing: hot control words on lines of their own, per-CPU progress, and buffers of finished
// trials reused (zeroed) so a campaign's memory does not grow with its trials.

import assert from 'node:assert/strict';
import { createMachine, releaseMachine, attach, CTL, LINE_WORDS, HELD_WORDS, region, M, MAX_THREADS } from '../lib/mem/machine.js';
import { xzalloc } from '../lib/mem/heap.js';
import { spin_lock, spin_unlock, spin_lock_init, progressSum } from '../lib/sync/index.js';
import { defineStruct } from '../lib/mem/layout.js';

const LOCKBOX = defineStruct('test_lockbox', { lock: 32 });
const line = (w: number): number => Math.floor(w / LINE_WORDS);

describe('machine memory', () => {
  it('keeps SEQ alone on its 64-byte line, away from STOP and the heap lock', () => {
    const others = Object.entries(CTL).filter(([k]) => k !== 'SEQ' && k !== 'SCHED' && k !== 'LOCKDEP').map(([, v]) => v);
    for (const w of others) assert.notEqual(line(w), line(CTL.SEQ), `word ${w} shares SEQ's line`);
    assert.notEqual(line(CTL.STOP), line(CTL.HEAP_LOCK));
  });

  it('gives every CPU its own line for published lock state, and sums their progress', () => {
    const m = createMachine({ threads: 2, heapWords: 1 << 12 });
    attach(m, 3);
    assert.equal(region('held').base % LINE_WORDS, 0);
    assert.equal(HELD_WORDS % LINE_WORDS, 0);
    const l = xzalloc(LOCKBOX) + LOCKBOX.lock;
    spin_lock_init(l, 0);
    const before = progressSum(MAX_THREADS);
    for (let i = 0; i < 5; i++) { spin_lock(l); spin_unlock(l); }
    assert.equal(progressSum(MAX_THREADS) - before, 5);
  });

  it('hands a released buffer to the next machine of the same size, zeroed', () => {
    const a = createMachine({ threads: 2, heapWords: 1 << 12 });
    attach(a, 0);
    M[a.layout.heap.base + 7] = 1234;
    releaseMachine(a);
    const b = createMachine({ threads: 2, heapWords: 1 << 12 });
    assert.equal(b.sab, a.sab);
    attach(b, 0);
    assert.equal(M[b.layout.heap.base + 7], 0);
    assert.equal(M[CTL.HEAP_BUMP], b.layout.heap.base + 2);
    const c = createMachine({ threads: 2, heapWords: 1 << 12 });
    assert.notEqual(c.sab, b.sab, 'a buffer still in use is never handed out twice');
  });
});
