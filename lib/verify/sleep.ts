// Sleep sets (Godefroid, 1996) over the search tree of search.ts. Once the subtree under thread p at node n has
// been searched, a later sibling q need not run p's step again before something that conflicts with it: such a
// run only reorders p's step with independent steps, so it is the same trace as one in p's subtree. p then sleeps
// in q's subtree until a step conflicting with it runs; a run whose default continuation picks a sleeping thread
// is redundant from there on (search.ts cuts it and tries a thread that is awake instead).
//
// Under a preemption bound that argument is not enough (Musuvathi & Qadeer, MSR-TR-2007-12; Coons, Musuvathi &
// McKinley, OOPSLA 2013): the same trace with p's step moved to the front may cost more preemptions, so p's
// subtree, searched within the bound, need not hold it. Example at K=0 (found by test/lib/verify/verify-search.test.ts):
// A reads x; B first touches nothing (b1), then writes x (b2); C reads x. C B A (c1 b2 a1: no preemption, each
// thread runs to its end) is a state of its own; every run of it that starts with B's step is b1 c1 b2 a1, which
// preempts B. Searched A, then B, then C at the start, with B asleep under C, the search never reaches it.
// So p sleeps in q's subtree only where moving its step to the front costs no more than the run it stands for:
//   - cost(n, p) + after(p) <= cost(n, q), where after(p) is what switching away from p right after its step
//     costs (0 when p ended, blocked or yielded there). The run n q w p rest becomes n p q w rest: the first two
//     decisions cost cost(n, p) + after(p) instead of cost(n, q); the switch from w's last thread x to p and from
//     p to rest's first cost at least the single switch from x to rest that replaces them, because p's step is
//     independent of every step of q w, so x's runnable state (the words its last step waits on) and its
//     yielding flag are the same in both runs. Unbounded, the condition is dropped.
//   - A decision whose thread is yielding wakes every sleeper: CHESS's yield makes a yielding x give way, so in
//     n q w p rest, x may continue after p only because p ran in between; moved to the front, x could not.
//   - p's step must be the same wherever it runs: no fault point that branches in it (its footprint would depend
//     on the choice), a footprint that did not overflow, and a next decision recorded (it did not end the run).
//   - Choices that only the bounded search's extra backtrack points asked for (search.ts) are run even if asleep
//     and put nobody to sleep (as dejafu does with its conservative points): they exist because the bound made a
//     race's reversal too costly where it was found, and a sleep set must not undo them.
// This is a local argument, not a proof: the reduced search is compared with the unreduced one, outcome for
// outcome and terminal state for terminal state, in test/lib/explore/verify.test.ts and `bench verify --soundness`.

import { overlap } from './dpor.js';
import { cost, type Node, type SchedNode, type Sleeper } from './tree.js';
import type { Trace } from './trace.js';

/**
 * The step run at decision i, as a sleeper, or null when it may not sleep (see above); `was` itself when it
 * stands for the same step (a node keeps its sleeper object from run to run). `faulty(i)`: a fault point branched in step i.
 */
export function sleeperAt(tr: Trace, i: number, faulty: (i: number) => boolean, was: Sleeper | null): Sleeper | null {
  const s = tr.steps[i], next = tr.steps[i + 1];
  if (s.universal || faulty(i) || next === undefined) return null;
  const after = next.current === s.thread ? cost(next, -1) : 0;
  if (was !== null && was.thread === s.thread && was.after === after && !was.universal && sameFp(was.fp, s.fp)) return was;
  return { thread: s.thread, fp: s.fp, universal: false, after };
}

/** Whether sibling p, searched before c at n, may sleep in c's subtree. */
export function maySleep(n: SchedNode, p: Sleeper, c: number, bound: number): boolean {
  return p.thread !== c && (!Number.isFinite(bound) || cost(n, p.thread) + p.after <= cost(n, c));
}

function sameFp(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true; // readTrace hands a replayed step the last run's array
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** walkSleep's working state, kept across runs: steps where a fault point branched (marked with the walk's number). */
let faultMark = new Int32Array(64), walks = 0;
/** The sleepers by thread (valid where the mask has the thread's bit). */
const sleepers: Array<Sleeper | null> = new Array<Sleeper | null>(32).fill(null);

/**
 * What a search's walks left for the next (one per search): the sleepers asleep on entry to each node walked
 * (`threads` slots a node; node i's `sleep` is the mask), and how many leading nodes of the stack have theirs
 * recorded and are unchanged since, nodes before them included (the search lowers it where it changes the stack).
 */
export class SleepWalk {
  walked = 0;
  threads = 0;
  entry: Array<Sleeper | null> = [];
}

/**
 * Walk the stack along the run just made: set every scheduling node's `sleep` (threads asleep on entry) and `own`.
 * Returns the stack index of the first node from `from` on whose chosen thread was asleep (the run is redundant
 * from there), or -1. `exempt(i)`: node i is searched in full (no sleeping there: a shard's split levels).
 * A node's entry state depends only on the nodes before it, so the walk resumes at the last scheduling node below
 * `w.walked` (its sleepers as the last walk found them): the nodes before it are the last run's, unchanged.
 */
export function walkSleep(stack: Node[], tr: Trace, bound: number, from: number, exempt: (i: number) => boolean, w: SleepWalk): number {
  const n = tr.steps.length, T = tr.threads;
  if (n > faultMark.length) faultMark = new Int32Array(Math.max(n, 2 * faultMark.length));
  const mark = ++walks;
  for (const f of tr.faults) if (f.branch && f.step >= 0 && f.step < n) faultMark[f.step] = mark;
  const faulty = (i: number): boolean => i >= 0 && i < n && faultMark[i] === mark;
  if (T !== w.threads) { w.threads = T; w.walked = 0; }
  let start = Math.min(w.walked, stack.length, from) - 1;
  while (start >= 0 && stack[start].kind !== 'sched') start--;
  let asleep = 0; // threads asleep, as a mask; their sleepers in `sleepers`
  if (start >= 0) {
    asleep = (stack[start] as SchedNode).sleep;
    for (let m = asleep; m !== 0; m &= m - 1) { const t = 31 - Math.clz32(m & -m); sleepers[t] = w.entry[start * T + t]; }
  } else start = 0;
  const entry = w.entry;
  for (let i = start; i < stack.length; i++) {
    const node = stack[i];
    if (node.kind !== 'sched') continue;
    const step = tr.steps[node.step];
    if (node.yielding) asleep = 0;
    node.sleep = asleep;
    for (let m = asleep; m !== 0; m &= m - 1) { const t = 31 - Math.clz32(m & -m); entry[i * T + t] = sleepers[t]; }
    w.walked = i + 1;
    node.own = sleeperAt(tr, node.step, faulty, node.own);
    const c = node.chosen;
    if ((asleep >>> c) & 1) {
      if (i >= from && !exempt(i) && ((node.cons >>> c) & 1) === 0) return i;
      asleep &= ~(1 << c);
    }
    if (!exempt(i)) for (const p of node.taken) if (maySleep(node, p, c, bound)) { sleepers[p.thread] = p; asleep |= 1 << p.thread; }
    for (let m = asleep; m !== 0; m &= m - 1) {
      const t = 31 - Math.clz32(m & -m);
      if (overlap(sleepers[t]!, step)) asleep &= ~(1 << t);
    }
  }
  w.walked = stack.length;
  return -1;
}
