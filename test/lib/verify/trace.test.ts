// What a verify run records per step (lib/mem/footprint.ts) and reads back (lib/verify/trace.ts), driven by hand on
// this thread: a range touched many times in a step is one entry whose verdict is the step's net change; a range past
// the copy limit, and the last step's ranges, count as written; and a run that repeats its search's previous run skips
// recording the shared leading steps yet reads back the very trace a run recording everything would.

import assert from 'node:assert/strict';
import { createMachine, releaseMachine, attach, M, LAYOUT, CTL, type Machine } from '../../../lib/mem/machine.js';
import { fp, fpDecision, VB, VFLT, VFORCED, VERIFY } from '../../../lib/mem/footprint.js';
import { armVerify, readTrace, VERIFY_WORDS, type Replaying, type Trace } from '../../../lib/verify/trace.js';

const THREADS = 2;

/** A fresh machine with a verify region, armed (fp records from now on), its heap's first words numbered. */
let last: Machine | undefined;
function machine(forced: readonly number[] = [], replaying?: Replaying): number {
  if (last) releaseMachine(last); // its trace is read: the buffer serves the next run
  const m = last = createMachine({ threads: THREADS, heapWords: 1 << 13, regions: { verify: VERIFY_WORDS } });
  attach(m);
  armVerify({ kinds: 1, maxFaults: 1, forced, replaying });
  attach(m); // the CPUs attach after arming: that is when they see it armed
  const h = LAYOUT.heap.base;
  for (let i = 0; i < 4096; i++) M[h + i] = i;
  return h;
}

/** Step s of a made-up program that is fixed by its decisions and fault choices, as the model's runs are. */
function step(h: number, t: number, k: number, many: boolean): void {
  const own = h + 16 * t, shared = h + 64;
  fp(own, own + 4); fp(shared, shared + 2); fp(own, own + 4);
  if ((k + t) % 2 === 0) M[shared] += t + 1;                  // written, decided by the thread's own history
  if (M[shared] % 5 === 0) { M[own + 1]++; fp(own, own + 4); M[own + 1]--; } // changed and put back: read
  fp(shared, shared + 2);
  if (k === 1) fp(h + 1000, h + 1000 + 1500);               // past the copy limit
  if (t === 1 && k === 0) {                                   // a fault point: failing touches more
    const n = M[VB + VERIFY.FLT_N];
    const fail = ((M[VFORCED + (n >>> 5)] >>> (n & 31)) & 1) !== 0;
    M[VFLT + 2 * n] = M[VB + VERIFY.STEP]; M[VFLT + 2 * n + 1] = 1 | (fail ? 0x10 : 0); M[VB + VERIFY.FLT_N] = n + 1;
    if (fail) { fp(h + 200, h + 208); M[h + 200] = -1; }
  }
  if (many && k >= 1) for (let i = 0; i < 3000; i++) fp(h + 2000 + i, h + 2001 + i); // the log overflows
}

function run(decisions: number[], forced: readonly number[] = [], replaying?: Replaying, many = false): Trace {
  const h = machine(forced, replaying);
  const ran = [0, 0];
  decisions.forEach((t, s) => {
    fpDecision(s, 0b11, s === 0 ? -1 : decisions[s - 1], false);
    step(h, t, ran[t]++, many);
  });
  return readTrace(THREADS, Uint8Array.from(decisions));
}

describe('verify footprints and traces', () => {
  it('one entry per range and step; the verdict is the net change; past the copy limit and in the last step: written', () => {
    const tr = run([0, 1, 0, 1]);
    const h = LAYOUT.heap.base;
    assert.deepEqual(tr.steps[0].fp, [h, h + 4, 0, h + 64, h + 66, 1], 'step 0: own range read (4 touches), shared written');
    assert.deepEqual(tr.steps[1].fp, [h + 16, h + 20, 0, h + 64, h + 66, 0], 'step 1: both read');
    assert.deepEqual(tr.steps[2].fp.slice(6), [h + 1000, h + 2500, 1], 'a range past the copy limit is written though unchanged');
    assert.ok(tr.steps[3].fp.every((v, i) => i % 3 !== 2 || v === 1), 'the last step was never compared: written');
  });

  it('a run that repeats the previous one skips the shared steps and reads back the same trace as a full record', () => {
    const key = {};
    let skipped = 0, runs = 0;
    const orders: number[][] = [];
    for (let x = 0; x < 64; x += 5) orders.push(Array.from({ length: 6 }, (_, i) => (x >>> (5 - i)) & 1));
    for (const many of [false, true]) {
      for (const forced of [[], [0]]) {
        for (const d of orders) {
          const full = run(d, forced, undefined, many);
          const again = run(d.slice(0, 4), forced, { key, decisions: Uint8Array.from(d.slice(0, 4)) }, many);
          const fast = run(d, forced, { key, decisions: Uint8Array.from(d) }, many);
          skipped += M[VB + VERIFY.ARMED] - 1; runs++;
          const what = `decisions ${d.join('')}, forced ${forced.join(',')}${many ? ', overflowing' : ''}`;
          assert.deepEqual(fast, full, what);
          assert.deepEqual(run(d, forced, { key, decisions: Uint8Array.from(d) }, many), full, `${what}, twice`);
          assert.equal(again.steps.length, 4);
        }
      }
    }
    assert.ok(skipped >= 3 * runs, `most steps skipped (${skipped} in ${runs} runs)`);
  });

  it('does not skip across searches, past a fault choice that differs, or after compiled C ran', () => {
    const d = [1, 0, 1, 0, 1];
    run(d, [], { key: {}, decisions: Uint8Array.from(d) });
    run(d, [], { key: {}, decisions: Uint8Array.from(d) });
    assert.equal(M[VB + VERIFY.ARMED], 1, 'another key: nothing skipped');
    const key = {};
    run(d, [], { key, decisions: Uint8Array.from(d) });
    run(d, [0], { key, decisions: Uint8Array.from(d) });
    assert.equal(M[VB + VERIFY.ARMED], 1, 'the fault point of step 0 chose otherwise: nothing skipped');
    run(d, [0], { key, decisions: Uint8Array.from(d) });
    assert.equal(M[VB + VERIFY.ARMED], 1 + 4, 'all but the last step skipped');
    assert.ok(M[VB + VERIFY.FP_N] > 0, 'the last step recorded');
    machine([0], { key, decisions: Uint8Array.from(d) });
    M[CTL.NATIVE_CODE] = 0x1000;                              // C ran on this machine: its fp records every step
    readTrace(THREADS, Uint8Array.from(d));
    run(d, [0], { key, decisions: Uint8Array.from(d) });
    assert.equal(M[VB + VERIFY.ARMED], 1, 'after a run of compiled C: nothing skipped');
  });
});
