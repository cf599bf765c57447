// The search of lib/verify alone, on programs simulated in the test: each thread a list of steps, each step the
// words it reads and writes. A run's terminal state is the order of its conflicting steps (two runs that order
// them alike are the same trace), so soundness is exact: the reduced search, with sleep sets or without, must
// reach every state the unreduced search reaches within the same preemption bound. Random programs (fast-check)
// and the example that shows why sleep sets need care under a bound (lib/verify/sleep.ts).

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Search } from '../lib/verify/search.js';
import type { Step, Trace } from '../lib/verify/trace.js';

/** A step: [word, written] pairs; word -1 marks a step that ends in a yield (a retry loop's backoff). */
type Prog = Array<Array<Array<[number, boolean]>>>;

/**
 * Run `prog` on the prefix, then CHESS's default: stay on the current thread unless it ended or yielded, else
 * the next one in order. A yielding thread gives way to any other that can run (as the real scheduler's).
 */
function simulate(prog: Prog, decisions: Uint8Array): { trace: Trace; state: string } {
  const n = prog.length, pc = new Array<number>(n).fill(0);
  const steps: Step[] = [], order: Array<[number, number]> = [];
  let current = -1, yielding = false;
  const runnable = (): number => pc.reduce((m, p, t) => (p < prog[t].length ? m | (1 << t) : m), 0);
  for (let r = runnable(); r !== 0; r = runnable()) {
    let t = steps.length < decisions.length ? decisions[steps.length] : -1;
    if (t < 0) {
      const others = [...Array(n).keys()].map((k) => (current + 1 + k + n) % n).find((c) => c !== current && (r >>> c) & 1);
      t = current >= 0 && (r >>> current) & 1 && (!yielding || others === undefined) ? current : others!;
    }
    assert.ok((r >>> t) & 1, `prefix picks thread ${t}, not runnable`);
    const body = prog[t][pc[t]].filter(([w]) => w >= 0);
    steps.push({ thread: t, runnable: r, current, yielding, fp: body.flatMap(([w, wr]) => [w, w + 1, wr ? 1 : 0]), universal: false });
    order.push([t, pc[t]]);
    yielding = prog[t][pc[t]].some(([w]) => w < 0);
    pc[t]++;
    current = pc[t] < prog[t].length ? t : -1;
  }
  // The terminal state: which of every two conflicting steps of different threads came first.
  const pairs: string[] = [];
  for (let i = 0; i < order.length; i++) for (let j = i + 1; j < order.length; j++) {
    const [a, b] = [order[i], order[j]];
    if (a[0] === b[0]) continue;
    const x = prog[a[0]][a[1]], y = prog[b[0]][b[1]];
    if (x.some(([w, wx]) => w >= 0 && y.some(([v, wy]) => v === w && (wx || wy)))) pairs.push(`${a}<${b}`);
  }
  return { trace: { threads: n, steps, faults: [] }, state: pairs.sort().join(' ') };
}

function search(prog: Prog, bound: number, reduce: boolean, sleep = true): { states: Set<string>; runs: number } {
  const s = new Search({ bound, reduce, sleep });
  const states = new Set<string>();
  let runs = 0;
  for (let p = s.next(); p; p = s.next()) {
    const { trace, state } = simulate(prog, p.decisions);
    s.record(trace, () => true);
    states.add(state);
    if (++runs > 100_000) throw new Error('search does not end');
  }
  return { states, runs };
}

const progArb: fc.Arbitrary<Prog> = fc.array(
  fc.array(fc.array(fc.tuple(fc.integer({ min: -1, max: 2 }), fc.boolean()), { maxLength: 2 }), { minLength: 1, maxLength: 3 }),
  { minLength: 2, maxLength: 3 });

describe('verify search (simulated programs): reduction never loses a state within the bound', () => {
  it('the example of lib/verify/sleep.ts: at K=0, C B A is reached although B, searched before C, would sleep under it', () => {
    // A reads word 0; B touches nothing, then writes word 0; C reads word 0. Within K=0 each thread runs to its
    // end: four orders of b2 against a1 and c1, one of them C B A, whose only run starting with B preempts B.
    const prog: Prog = [[[[0, false]]], [[], [[0, true]]], [[[0, false]]]];
    const full = search(prog, 0, false);
    assert.equal(full.states.size, 4);
    for (const sleep of [false, true]) assert.deepEqual([...search(prog, 0, true, sleep).states].sort(), [...full.states].sort());
  });

  it('random programs of 2-3 threads, 1-3 steps, 3 words, some steps yielding: same states at K = 0, 1, 2 and unbounded; sleep sets run no more', () => {
    fc.assert(fc.property(progArb, fc.constantFrom(0, 1, 2, Infinity), (prog, bound) => {
      const full = search(prog, bound, false);
      const want = [...full.states].sort();
      const dpor = search(prog, bound, true, false), sleep = search(prog, bound, true, true);
      assert.deepEqual([...dpor.states].sort(), want, 'DPOR alone');
      assert.deepEqual([...sleep.states].sort(), want, 'with sleep sets');
      assert.ok(sleep.runs <= full.runs);
    }), { numRuns: 400, seed: 8 });
  });
});
