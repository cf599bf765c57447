// The machine's memory plumbing: hot control words on lines of their own, per-CPU progress, and buffers of finished
// trials reused (zeroed) so a campaign's memory does not grow with its trials.

import assert from 'node:assert/strict';
import { createMachine, releaseMachine, attach, CTL, LINE_WORDS, HELD_WORDS, region, M, MAX_THREADS } from '../../../lib/mem/machine.js';
import { xzalloc } from '../../../lib/mem/heap.js';
import { spin_lock, spin_unlock, spin_lock_init, progressSum } from '../../../lib/sync/index.js';
import { defineStruct, defineLayout, declaredLayouts, type Shape } from '../../../lib/mem/layout.js';
import { TSTAT, profileRowWords, SCHED_SLOT_WORDS } from '../../../lib/mem/regions.js';
import { VERIFY_WORDS } from '../../../lib/mem/footprint.js';
import { SCHED_HEADER, SCHED_SLOT } from '../../../lib/sched/state.js';
import '../../../lib/sched/mode.js';
import '../../../lib/sync/lockdep.js';
import { XEN, MODEL_LOCK_CLASSES } from '../../../lib/xen/state.js';

const LOCKBOX = defineStruct('test_lockbox', { lock: 32 });
const line = (w: number): number => Math.floor(w / LINE_WORDS);

/** Fields of a layout that share a word, run past its end, or share a line with a field declared alone. */
function layoutProblems(s: Shape): string[] {
  const out: string[] = [];
  const fs = [...s.fields].sort((a, b) => a.off - b.off);
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i], end = f.off + f.words;
    if (end > s.words) out.push(`${s.name}.${f.name} ends at ${end}, past ${s.words}`);
    if (i + 1 < fs.length && end > fs[i + 1].off) out.push(`${s.name}.${f.name} overlaps ${fs[i + 1].name}`);
    if (!f.alone) continue;
    const lines = new Set(Array.from({ length: Math.max(f.words, 1) }, (_, k) => line(f.off + k)));
    for (const g of fs) {
      if (g === f) continue;
      for (let k = 0; k < Math.max(g.words, 1); k++) if (lines.has(line(g.off + k))) { out.push(`${s.name}.${g.name} shares a line with ${f.name}`); break; }
    }
  }
  if (s.lined && s.words % LINE_WORDS !== 0) out.push(`${s.name} is not whole lines (${s.words} words)`);
  return out;
}

describe('machine memory', () => {
  it('declares every layout without overlaps, hot words alone on their lines', () => {
    const names = declaredLayouts().map((s) => s.name);
    for (const n of ['ctl', 'ctl.SCHED', 'ctl.LOCKDEP', 'held', 'threadStat', 'lockProfile', 'sched header', 'sched slot', 'xen', 'verify']) {
      assert.ok(names.includes(n), `layout ${n} declared`);
    }
    assert.deepEqual(declaredLayouts().flatMap(layoutProblems), []);
    const ctl = declaredLayouts().find((s) => s.name === 'ctl')!;
    assert.ok(ctl.fields.find((f) => f.name === 'SEQ')!.alone, 'SEQ is declared alone');
    assert.notEqual(line(CTL.STOP), line(CTL.HEAP_LOCK));
    assert.notEqual(line(CTL.STOP), line(CTL.SEQ));
  });

  it('catches what it promises to catch: a shared line, an outgrown reservation', () => {
    const l = defineLayout('test hot', { a: 1, hot: { line: 'alone' }, b: 1, c: { words: 3, line: 'start' } });
    assert.deepEqual([l.a, l.hot, l.b, l.c, l.words], [0, 16, 32, 48, 64]);
    assert.throws(() => defineLayout('test big', { a: 4, b: 5 }, { capacity: 8 }), /needs 9 words, 8 are reserved/);
    const bad: Shape = { name: 'bad', words: 16, lined: true, fields: [{ name: 'x', off: 0, words: 1, alone: true }, { name: 'y', off: 3, words: 1, alone: false }] };
    assert.deepEqual(layoutProblems(bad), ['bad.y shares a line with x']);
  });

  it('lays out the regions of a model machine without overlaps, per-thread lines on line boundaries', () => {
    const m = createMachine({ threads: 4, heapWords: 1 << 12, lockClasses: MODEL_LOCK_CLASSES, regions: { xen: XEN.words, verify: VERIFY_WORDS } });
    const rs = [{ name: 'ctl', base: 0, words: CTL.words }, ...Object.entries(m.layout.regions).map(([name, r]) => ({ name, ...r }))]
      .sort((a, b) => a.base - b.base);
    for (let i = 0; i + 1 < rs.length; i++) assert.ok(rs[i].base + rs[i].words <= rs[i + 1].base, `${rs[i].name} overlaps ${rs[i + 1].name}`);
    assert.ok(m.layout.shadowByte >= (rs[rs.length - 1].base + rs[rs.length - 1].words) * 4, 'the heap shadow follows every region');
    for (const n of ['held', 'ring', 'profile', 'threadStat', 'sched']) assert.equal(m.layout.regions[n].base % LINE_WORDS, 0, `${n} on a line boundary`);
    const nc = m.layout.lockClasses.length;
    for (const [what, stride] of [['held', HELD_WORDS], ['threadStat', TSTAT.words], ['profile row', profileRowWords(nc)], ['sched slot', SCHED_SLOT_WORDS], ['sched header', SCHED_HEADER.words]] as const) {
      assert.equal(stride % LINE_WORDS, 0, `${what}: whole lines per thread`);
    }
    assert.ok(SCHED_SLOT.words <= SCHED_SLOT_WORDS);
    assert.equal(CTL.SEQ % LINE_WORDS, 0);
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
