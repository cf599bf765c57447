// The search tree of a stateless model checker (CHESS / loom style). Every run starts from a fresh machine and is
// fixed by a prefix of choices — which thread runs at each scheduling decision, whether each fault point fails —
// after which the verify chooser continues by default (no preemption, no fault). After each run the tree grows by
// the run's new decisions; the next prefix is the deepest choice not yet tried. Scheduling alternatives cost a
// preemption when they switch away from a thread that could go on (not when it blocked, ended or was yielding);
// the bound K prunes those. Reduced (DPOR), a decision's alternatives are only the threads races call for;
// unreduced, every runnable thread within the bound. Fault points always branch (fail / succeed).

import { races } from './dpor.js';
import type { Trace } from './trace.js';

interface SchedNode { kind: 'sched'; step: number; runnable: number; current: number; yielding: boolean; chosen: number; pre: number; todo: number; done: number }
interface FaultNode { kind: 'fault'; step: number; index: number; fail: boolean }
type Node = SchedNode | FaultNode;

export interface Prefix { decisions: Uint8Array; faults: number[] }

export interface SearchOptions {
  /** Preemption bound (Infinity: none). */
  bound: number;
  reduce: boolean;
  /** Sharding: choices at the first `splitDepth` nodes are all explored (no reduction there); a shard owns the subtrees whose split prefix hashes to it. */
  shard?: { index: number; count: number; splitDepth: number };
}

export function cost(n: SchedNode, t: number): number {
  return n.current >= 0 && !n.yielding && t !== n.current && ((n.runnable >>> n.current) & 1) !== 0 ? 1 : 0;
}

/** Threads that may be chosen at n within the bound. A yielding thread gives way (CHESS's yield): never itself while another can run. */
function allowed(n: SchedNode, bound: number): number {
  let r0 = n.runnable;
  if (n.yielding && n.current >= 0 && (r0 & ~(1 << n.current)) !== 0) r0 &= ~(1 << n.current);
  let m = 0;
  for (let t = 0, r = r0; r !== 0; t++, r >>>= 1) if ((r & 1) && n.pre + cost(n, t) <= bound) m |= 1 << t;
  return m;
}

export class Search {
  private stack: Node[] = [];
  private started = false;
  /** After record(): the run lies in another shard's subtree (it ran to learn the tree's shape; do not count it). */
  foreign = false;

  constructor(readonly o: SearchOptions) {}

  /** The prefix of the next run, or null when the tree (within the bound) is exhausted. */
  next(): Prefix | null {
    if (!this.started) { this.started = true; return this.prefix(); }
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const n = this.stack[i];
      if (n.kind === 'fault') {
        if (!n.fail) { n.fail = true; this.stack.length = i + 1; return this.prefix(); }
        continue;
      }
      const full = !this.o.reduce || (this.o.shard !== undefined && i < this.o.shard.splitDepth);
      const cand = (full ? allowed(n, this.o.bound) : n.todo & allowed(n, this.o.bound)) & ~n.done;
      if (cand !== 0) {
        const t = 31 - Math.clz32(cand & -cand);
        n.done |= 1 << t;
        n.chosen = t;
        this.stack.length = i + 1;
        return this.prefix();
      }
    }
    return null;
  }

  private prefix(): Prefix {
    const decisions: number[] = [], faults: number[] = [];
    for (const n of this.stack) {
      if (n.kind === 'sched') decisions.push(n.chosen);
      else if (n.fail) faults.push(n.index);
    }
    return { decisions: Uint8Array.from(decisions), faults };
  }

  /** After record(): preemptions of the run just made. */
  preemptions = 0;

  /** Grow the tree by the run just made with the last prefix; `ended(t)`: thread t finished its actor. */
  record(tr: Trace, ended: (t: number) => boolean): void {
    const known = this.stack.length;
    const nodes = this.nodesOf(tr);
    for (let i = 0; i < Math.min(known, nodes.length); i++) {
      const a = this.stack[i], b = nodes[i];
      if (a.kind !== b.kind || a.step !== b.step || (a.kind === 'sched' && a.chosen !== (b as SchedNode).chosen)) {
        throw new Error(`verify: the run left its forced prefix at node ${i} (the model is not deterministic given the choices)`);
      }
    }
    for (let i = known; i < nodes.length; i++) this.stack.push(nodes[i]);
    this.preemptions = 0;
    for (const n of this.stack) if (n.kind === 'sched') this.preemptions = n.pre + cost(n, n.chosen);
    const sh = this.o.shard;
    this.foreign = sh !== undefined && ownerOf(this.stack.slice(0, sh.splitDepth), sh.count) !== sh.index;
    // Within another shard's subtree only the split levels matter (they are explored in full anyway).
    if (this.foreign) { this.stack.length = Math.min(this.stack.length, sh!.splitDepth); return; }
    if (!this.o.reduce) return;
    const at = new Map<number, SchedNode>();
    for (const n of this.stack) if (n.kind === 'sched') at.set(n.step, n);
    for (const [j, t] of races(tr.steps, tr.threads, ended)) {
      this.backtrack(at.get(j), t);
      // Bounded search (after Coons, Musuvathi, McKinley, OOPSLA 2013): the reversal may need more preemptions at
      // j than the bound allows; also try it where the thread of j was switched to and at the decision before
      // (the last step of the thread it replaced), where it may be cheaper. Conservative: the soundness test of
      // reduced against unreduced search (test/verify.test.ts, bench/verify.ts) missed a state without the second.
      let s = j;
      while (s > 0 && tr.steps[s - 1].thread === tr.steps[j].thread) s--;
      if (s !== j) this.backtrack(at.get(s), t);
      if (s > 0) this.backtrack(at.get(s - 1), t);
    }
  }

  private backtrack(n: SchedNode | undefined, t: number): void {
    if (!n) return;
    n.todo |= (n.runnable >>> t) & 1 ? 1 << t : n.runnable;
  }

  private nodesOf(tr: Trace): Node[] {
    const out: Node[] = [];
    const faultsAt = new Map<number, number[]>();
    for (const f of tr.faults) if (f.branch) { const l = faultsAt.get(f.step) ?? []; l.push(f.index); faultsAt.set(f.step, l); }
    const failed = new Set(tr.faults.filter((f) => f.fail).map((f) => f.index));
    let pre = 0;
    tr.steps.forEach((s, i) => {
      const n: SchedNode = { kind: 'sched', step: i, runnable: s.runnable, current: s.current, yielding: s.yielding, chosen: s.thread, pre, todo: 1 << s.thread, done: 1 << s.thread };
      pre += cost(n, s.thread);
      out.push(n);
      for (const index of faultsAt.get(i) ?? []) out.push({ kind: 'fault', step: i, index, fail: failed.has(index) });
    });
    return out;
  }
}

/** Which shard owns the subtree under these split-level choices (a deterministic hash of them). */
function ownerOf(nodes: readonly Node[], count: number): number {
  let h = 0x811c9dc5;
  for (const n of nodes) h = Math.imul(h ^ (n.kind === 'sched' ? n.chosen : n.fail ? 0x100 : 0x200), 16777619);
  return (h >>> 0) % count;
}
