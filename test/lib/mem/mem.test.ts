// The checked heap (lib/mem/heap.ts) misused on purpose: every misuse must come out as the classified model crash
// Xen would have suffered, never as a silent read or a stray JS exception; exhaustion is NULL, as in Xen.

import assert from 'node:assert/strict';
import { createMachine, attach, M, QUARANTINE, type Machine } from '../../../lib/mem/machine.js';
import { xzalloc, xfree, chk, heapLive, NULL, POISON, ModelCrash, CRASH_OUTCOMES, type Outcome } from '../../../lib/mem/index.js';
import { T_NODE, T_LEAF } from '../../fixtures/mem-structs.js';
import { defineStruct, typeSlotId, TYPE_SLOT_MASK } from '../../../lib/mem/layout.js';
import { runWorkers } from '../../fixtures/worker-harness.js';
import type { MemJob, MemResult } from '../../fixtures/mem-worker.js';

/** lib/mem/layout.ts's type id of a struct name (FNV-1a, top 24 bits), and its type slot. */
function typeSlotOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return ((h >>> 8) || 1) & TYPE_SLOT_MASK;
}

function boot(heapWords = 1 << 14): Machine {
  const m = createMachine({ threads: 2, heapWords });
  attach(m);
  return m;
}

/** The model crash fn ends with; fails the test if it returns or throws anything else. */
function crashOf(fn: () => unknown): ModelCrash {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelCrash) return e;
    assert.fail(`expected a ModelCrash, got ${String(e)}`);
  }
  assert.fail('expected a ModelCrash, the access succeeded');
}

function expectCrash(fn: () => unknown, kind: Outcome, message?: RegExp): ModelCrash {
  const c = crashOf(fn);
  assert.equal(c.kind, kind, c.message);
  assert.ok(CRASH_OUTCOMES.has(c.kind));
  if (message) assert.match(c.message, message);
  return c;
}

describe('mem: checked heap misuse', () => {
  beforeEach(() => { boot(); });

  it('a live pointer of the right type passes the check and is zeroed', () => {
    const p = xzalloc(T_NODE);
    assert.notEqual(p, NULL);
    assert.equal(chk(p, T_NODE, 'test'), p);
    for (let i = 0; i < T_NODE.words; i++) assert.equal(M[p + i], 0);
    assert.equal(heapLive(), 1);
  });

  it('NULL dereference is a null-deref crash naming the struct and the function', () => {
    const c = expectCrash(() => chk(NULL, T_NODE, 'vpci_process_pending'), 'null-deref', /NULL pointer dereference/);
    assert.equal(c.where, 'vpci_process_pending');
    assert.match(c.message, /test_mem_node/);
  });

  it('a freed object is use-after-free, and its memory is poisoned', () => {
    const p = xzalloc(T_NODE);
    M[p + T_NODE.val] = 42;
    xfree(p, 'test');
    assert.equal(M[p + T_NODE.val], POISON, 'freed memory holds the poison pattern');
    expectCrash(() => chk(p, T_NODE, 'vpci_read'), 'use-after-free', /read of struct test_mem_node .* after it was freed/);
    assert.equal(heapLive(), 0);
  });

  it('a poison value read from freed memory and used as a pointer is use-after-free', () => {
    const outer = xzalloc(T_NODE);
    const inner = xzalloc(T_LEAF);
    M[outer + T_NODE.next] = inner;
    xfree(outer, 'test');
    const stale = M[outer + T_NODE.next]; // the load a racing CPU would do without checking outer first
    assert.equal(stale, POISON);
    expectCrash(() => chk(stale, T_LEAF, 'modify_bars'), 'use-after-free', /read from freed memory/);
    assert.equal(chk(inner, T_LEAF, 'test'), inner, 'the object it used to point at is untouched');
  });

  it('xfree twice is a double free; xfree(NULL) is a no-op', () => {
    const p = xzalloc(T_LEAF);
    xfree(p, 'vpci_remove_device');
    expectCrash(() => xfree(p, 'vpci_remove_device'), 'double-free', /double free of struct test_mem_leaf/);
    assert.doesNotThrow(() => xfree(NULL, 'test'));
    assert.equal(heapLive(), 0, 'the second free did not unbalance the live count');
  });

  it('a pointer to another struct type is a BUG with "type confusion"', () => {
    const p = xzalloc(T_LEAF);
    const c = expectCrash(() => chk(p, T_NODE, 'vpci_write'), 'bug', /type confusion/);
    assert.match(c.message, /is struct test_mem_leaf, used as struct test_mem_node/);
  });

  it('two struct types sharing a type slot (lib/mem/layout.ts) still pass as themselves and are told apart', () => {
    // Names whose type ids fall in the same slot, searched for here: chk takes its long path for them.
    const named = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const name = `test_slot_${i}`, k = typeSlotOf(name), other = named.get(k);
      if (other) pair = [other, name]; else named.set(k, name);
    }
    const A = defineStruct(pair[0], { x: 1 }), B = defineStruct(pair[1], { y: 2 });
    assert.equal(typeSlotId[typeSlotOf(pair[0])], -1, 'the slot is marked shared');
    const a = xzalloc(A), b = xzalloc(B);
    assert.equal(chk(a, A, 'test'), a);
    assert.equal(chk(b, B, 'test'), b);
    expectCrash(() => chk(a, B, 'test'), 'bug', /type confusion/);
    expectCrash(() => chk(b, A, 'test'), 'bug', /type confusion/);
  });

  it('wild pointers fault and bad frees are bugs', () => {
    const p = xzalloc(T_NODE);
    expectCrash(() => chk(p + 1, T_NODE, 'test'), 'bug', /type confusion|not/); // inside a live block: no header there
    expectCrash(() => chk(123, T_NODE, 'test'), 'null-deref', /wild pointer/);   // below the heap
    expectCrash(() => xfree(p + 1, 'test'), 'bug', /not the start of a live block/);
    expectCrash(() => xfree(7, 'test'), 'bug', /wild pointer/);
    assert.equal(chk(p, T_NODE, 'test'), p, 'the block itself is still fine');
  });

  it('exhaustion returns NULL, never throws, and stays exhausted while frees sit in quarantine', () => {
    boot(64); // 64 heap words: T_LEAF takes 2 + 2 header words
    const got: number[] = [];
    for (let i = 0; i < 100; i++) {
      const p = xzalloc(T_LEAF);
      if (p === NULL) break;
      got.push(p);
    }
    assert.ok(got.length > 0 && got.length < 100, `allocated ${got.length} blocks before NULL`);
    assert.equal(new Set(got).size, got.length, 'every block distinct');
    assert.equal(xzalloc(T_LEAF), NULL);
    assert.equal(xzalloc(T_NODE), NULL);
    assert.equal(heapLive(), got.length);
    for (const p of got) xfree(p, 'test');
    assert.equal(xzalloc(T_LEAF), NULL, `${got.length} < QUARANTINE frees: nothing is reusable yet`);
  });

  it('quarantine: a freed block is not handed out again until QUARANTINE later frees push it out', () => {
    const victim = xzalloc(T_LEAF);
    xfree(victim, 'test');
    for (let i = 0; i < QUARANTINE; i++) {
      const q = xzalloc(T_LEAF);
      assert.notEqual(q, victim, `allocation ${i} after the free reused the freed block`);
      xfree(q, 'test');
    }
    // victim + QUARANTINE frees: the victim was the oldest entry and fell out onto the free list
    const again = xzalloc(T_LEAF);
    assert.equal(again, victim, 'once out of quarantine the block is reused');
    assert.equal(M[again + T_LEAF.a], 0, 'reused memory is zeroed, not poisoned');
    assert.equal(chk(again, T_LEAF, 'test'), again);
  });

  describe('from a worker thread', function () {
    this.timeout(20_000);

    it('gives the same verdicts on the same heap, and its allocations are live here', async () => {
      const machine = boot();
      const live = xzalloc(T_NODE);
      M[live + T_NODE.val] = 0xc0ffee;
      const freed = xzalloc(T_NODE);
      M[freed + T_NODE.next] = xzalloc(T_LEAF);
      xfree(freed, 'main');
      const local = {
        null: crashOf(() => chk(NULL, T_NODE, 'worker')).kind,
        freed: crashOf(() => chk(freed, T_NODE, 'worker')).kind,
        confused: crashOf(() => chk(live, T_LEAF, 'worker')).kind,
      };
      const [res] = await runWorkers<MemResult>(new URL('../../fixtures/mem-worker.js', import.meta.url),
        [{ machine, live, freed } satisfies MemJob], 15_000);
      const kind = (v: string): string => v.split(':')[0];
      assert.equal(res.verdicts.live, 'ok');
      assert.equal(kind(res.verdicts.null), local.null);
      assert.equal(kind(res.verdicts.freed), local.freed);
      assert.equal(kind(res.verdicts.confused), local.confused);
      assert.match(res.verdicts.confused, /type confusion/);
      assert.equal(kind(res.verdicts.poison), 'use-after-free');
      assert.equal(kind(res.verdicts.doubleFree), 'double-free');
      assert.equal(res.liveVal, 0xc0ffee, 'the worker reads what main wrote');
      assert.notEqual(res.allocated, NULL);
      assert.equal(chk(res.allocated, T_LEAF, 'main'), res.allocated, 'worker allocation is live and typed here');
      assert.equal(M[res.allocated + T_LEAF.b], 0x5eed);
      assert.notEqual(res.allocated, freed, 'the worker did not get the quarantined block');
      assert.equal(heapLive(), 3, 'live, the leaf and the worker\'s block');
    });
  });
});
