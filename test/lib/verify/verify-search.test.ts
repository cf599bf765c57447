// The search of lib/verify alone, on programs simulated in the test: each thread a list of steps, each step the
// words it reads and writes, some taking or releasing a lock (futex wakeups), some yielding. A run's terminal state
// is its memory, every thread's local state (what it read) and which threads never finished, so soundness is
// exact: the reduced search, with sleep sets or without, must reach every state the unreduced search reaches within
// the same preemption bound. Random programs (fast-check) and the example that shows why sleep sets need care under
// a bound (lib/verify/sleep.ts).

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Search } from '../../../lib/verify/search.js';
import type { Step, Trace } from '../../../lib/verify/trace.js';

/**
 * A step: [word, written] pairs over words 0-2; word -1 marks a step that ends in a yield (a retry loop's
 * backoff); word 3 is a lock: a step holding [3, true] is lock(3), [3, false] unlock(3), and nothing else.
 */
type Prog = Array<Array<Array<[number, boolean]>>>;
const LOCK = 3;

/**
 * Run `prog` on the prefix, then CHESS's default: stay on the current thread unless it ended, blocked or yielded,
 * else the next one in order. A yielding thread gives way to any other that can run, and a lock taken by another
 * blocks the thread until the lock word changes, retrying then (futex semantics), as the real scheduler does.
 */
function simulate(prog: Prog, decisions: Uint8Array): { trace: Trace; state: string; ended: (t: number) => boolean } {
  const n = prog.length, pc = new Array<number>(n).fill(0);
  const blocked = new Array<number>(n).fill(-1);
  const steps: Step[] = [], mem = [0, 0, 0], local = new Array<number>(n).fill(0);
  let current = -1, yielding = false, lock = 0;
  const mix = (...xs: number[]): number => xs.reduce((h, x) => Math.imul(h ^ x, 16777619) >>> 0, 0x811c9dc5);
  const runnable = (): number => pc.reduce((m, p, t) => (p < prog[t].length && (blocked[t] < 0 || blocked[t] !== lock) ? m | (1 << t) : m), 0);
  for (let r = runnable(); r !== 0; r = runnable()) {
    let t = steps.length < decisions.length ? decisions[steps.length] : -1;
    if (t < 0) {
      const others = [...Array(n).keys()].map((k) => (current + 1 + k + n) % n).find((c) => c !== current && (r >>> c) & 1);
      t = current >= 0 && (r >>> current) & 1 && (!yielding || others === undefined) ? current : others!;
    }
    assert.ok((r >>> t) & 1, `prefix picks thread ${t}, not runnable`);
    const body = prog[t][pc[t]], op = body.find(([w]) => w === LOCK);
    let acc = body.filter(([w]) => w >= 0 && w < LOCK);
    blocked[t] = -1;
    if (op && op[1] && lock !== 0) {
      acc = [[LOCK, false]]; // a failed attempt leaves no trace but the wait
      blocked[t] = lock;
    } else if (op) {
      acc = [[LOCK, true]];
      lock = op[1] ? 1 : 0;
      local[t] = mix(local[t], LOCK, lock);
    } else {
      // Values: what a step writes, and what its thread goes on with, depend on everything it read.
      local[t] = mix(local[t], t, pc[t], ...acc.map(([w]) => mem[w]));
      for (const [w, wr] of acc) if (wr) mem[w] = mix(local[t], w);
    }
    steps.push({ thread: t, runnable: r, current, yielding, fp: acc.flatMap(([w, wr]) => [w, w + 1, wr ? 1 : 0]), universal: false });
    yielding = !op && body.some(([w]) => w < 0);
    if (blocked[t] < 0) pc[t]++;
    current = pc[t] < prog[t].length ? t : -1;
  }
  // The terminal state: memory, every thread's local state, and which threads never finished (a deadlock).
  const ended = (t: number): boolean => pc[t] >= prog[t].length;
  const state = `${mem.join(',')} ${lock} ${local.join(',')} stuck:${[...Array(n).keys()].filter((t) => !ended(t)).join(',')}`;
  return { trace: { threads: n, steps, faults: [] }, state, ended };
}

function search(prog: Prog, bound: number, reduce: boolean, sleep = true): { states: Set<string>; runs: number } {
  const s = new Search({ bound, reduce, sleep });
  const states = new Set<string>();
  let runs = 0;
  for (let p = s.next(); p; p = s.next()) {
    const { trace, state, ended } = simulate(prog, p.decisions);
    s.record(trace, ended);
    states.add(state);
    if (++runs > 100_000) throw new Error('search does not end');
  }
  return { states, runs };
}

/**
 * The prefixes searches of `prog` within these bounds ask for, with each run's sleep cut, run interleaved (one
 * record() of each in turn: the working state kept from call to call must be each search's own); `fresh` makes
 * every sleep-set walk start from the root instead of where the last one left off.
 */
function prefixes(prog: Prog, bounds: number[], fresh = false): string[][] {
  const all = bounds.map((bound) => new Search({ bound, reduce: true }));
  const out: string[][] = all.map(() => []);
  const live = all.map((s) => s.next());
  for (let guard = 0; live.some((p) => p !== null); guard++) {
    if (guard > 100_000) throw new Error('search does not end');
    all.forEach((s, k) => {
      const p = live[k];
      if (!p) return;
      const { trace, ended } = simulate(prog, p.decisions);
      if (fresh) (s as unknown as { walk: { walked: number } }).walk.walked = 0;
      s.record(trace, ended);
      out[k].push(`${[...p.decisions].join('')} ${s.sleepCut}`);
      live[k] = s.next();
    });
  }
  return out;
}

const progArb: fc.Arbitrary<Prog> = fc.array(
  fc.array(fc.array(fc.tuple(fc.integer({ min: -1, max: LOCK }), fc.boolean()), { maxLength: 2 }), { minLength: 1, maxLength: 3 }),
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

  it('random programs of 2-3 threads, 1-3 steps, 3 words, a lock, some steps yielding: same states at K = 0, 1, 2 and unbounded; sleep sets run no more', () => {
    fc.assert(fc.property(progArb, fc.constantFrom(0, 1, 2, Infinity), (prog, bound) => {
      const full = search(prog, bound, false);
      const want = [...full.states].sort();
      const dpor = search(prog, bound, true, false), sleep = search(prog, bound, true, true);
      assert.deepEqual([...dpor.states].sort(), want, 'DPOR alone');
      assert.deepEqual([...sleep.states].sort(), want, 'with sleep sets');
      assert.ok(sleep.runs <= full.runs);
    }), { numRuns: 400, seed: 8 });
  });

  it('what a search keeps between runs changes nothing: sleep walks resumed or from the root, searches alone or interleaved', () => {
    fc.assert(fc.property(progArb, fc.constantFrom(0, 1, 2, Infinity), (prog, bound) => {
      const [alone] = prefixes(prog, [bound]), [other] = prefixes(prog, [bound === 0 ? 1 : 0]);
      assert.deepEqual(prefixes(prog, [bound], true), [alone], 'walks from the root');
      assert.deepEqual(prefixes(prog, [bound, bound === 0 ? 1 : 0]), [alone, other], 'two searches interleaved');
    }), { numRuns: 300, seed: 9 });
  });
});
