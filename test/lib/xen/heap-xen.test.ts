// What a freed read means in Xen (issue 15 point 8): the lab keeps its KASAN-style detection but says, per report,
// whether the access was a read or a write and what Xen would have done; and a reuse mode without quarantine in
// which a stale pointer lands on the next object of its type, as Xen's xmalloc pool may arrange.

import assert from 'node:assert/strict';
import { createMachine, attach, M } from '../../../lib/mem/machine.js';
import { xzalloc, xfree, chk, POISON, ModelCrash } from '../../../lib/mem/index.js';
import { T_NODE } from '../../fixtures/mem-structs.js';

function crashMessage(fn: () => unknown): string {
  try { fn(); } catch (e) { if (e instanceof ModelCrash) return `${e.kind}: ${e.message}`; throw e; }
  assert.fail('expected a model crash');
}

describe('heap: use-after-free as Xen would see it', () => {
  it('a read through a stale pointer: no fault in Xen, named as a read', () => {
    attach(createMachine({ threads: 1, heapWords: 1 << 12 }));
    const p = xzalloc(T_NODE);
    xfree(p, 'test');
    const m = crashMessage(() => chk(p, T_NODE, 'reader'));
    assert.match(m, /^use-after-free: .*read of struct \w+ at 0x[0-9a-f]+ after it was freed; Xen: no fault; the read returns freed memory/);
  });

  it('a write through a stale pointer: corrupts the freed block, caught by a debug build at the next allocation', () => {
    attach(createMachine({ threads: 1, heapWords: 1 << 12 }));
    const p = xzalloc(T_NODE);
    xfree(p, 'test');
    assert.match(crashMessage(() => chk(p, T_NODE, 'writer', 'write')), /write of struct .*XMEM Pool corruption found/);
  });

  it('following a pointer read from freed memory: a debug build faults on 0xAA..AA', () => {
    attach(createMachine({ threads: 1, heapWords: 1 << 12 }));
    assert.match(crashMessage(() => chk(POISON, T_NODE, 'follower')), /pointer read from freed memory .* debug build faults/);
  });

  it('quarantine (default): the next allocation of the same size does not hand back the freed block', () => {
    attach(createMachine({ threads: 1, heapWords: 1 << 12 }));
    const p = xzalloc(T_NODE);
    xfree(p, 'test');
    assert.notEqual(xzalloc(T_NODE), p);
  });

  it('reuse mode: the freed block comes straight back, and a stale pointer to it now passes the check silently', () => {
    attach(createMachine({ threads: 1, heapWords: 1 << 12, heapReuse: true }));
    const p = xzalloc(T_NODE);
    xfree(p, 'test');
    assert.match(crashMessage(() => chk(p, T_NODE, 'early')), /use-after-free/, 'freed and not yet reused: still reported');
    const q = xzalloc(T_NODE);
    assert.equal(q, p, 'LIFO reuse, as a pool allocator does');
    assert.equal(chk(p, T_NODE, 'stale'), p, 'the stale pointer now meets a live object of the same type: no report');
    assert.equal(M[p], 0, 'and sees the new object\'s (zeroed) state, not the old one');
  });
});
