// The search tree of a stateless model checker (CHESS / loom style). Every run starts from a fresh machine and is
// fixed by a prefix of choices — which thread runs at each scheduling decision, whether each fault point fails —
// after which the verify chooser continues by default (no preemption, no fault). After each run the tree grows by
// the run's new decisions; the next prefix is the deepest choice not yet tried. Scheduling alternatives cost a
// preemption when they switch away from a thread that could go on (not when it blocked, ended or was yielding);
// the bound K prunes those. Reduced (DPOR), a decision's alternatives are only the threads races call for;
// unreduced, every runnable thread within the bound. Fault points always branch (fail / succeed).

import { races } from './dpor.js';
import { dumping, dumpSearch, dumpPrefix, dumpTrace, dumpRecord } from './dump.js';
import { walkSleep, SleepWalk } from './sleep.js';
import { cost, allowed, type Node, type SchedNode } from './tree.js';
import type { Trace } from './trace.js';

export { cost };

export interface Prefix { decisions: Uint8Array; faults: number[] }

export interface SearchOptions {
  /** Preemption bound (Infinity: none). */
  bound: number;
  reduce: boolean;
  /** With reduce: sleep sets on top of DPOR (sleep.ts). Default true. */
  sleep?: boolean;
  /** Sharding: choices at the first `splitDepth` nodes are all explored (no reduction there); a shard owns the subtrees whose split prefix hashes to it. */
  shard?: { index: number; count: number; splitDepth: number };
}

export class Search {
  private stack: Node[] = [];
  private started = false;
  /** After record(): the run lies in another shard's subtree (it ran to learn the tree's shape; do not count it). */
  foreign = false;

  /** record()'s map from step to scheduling node, kept from run to run. */
  private readonly atStep: Array<SchedNode | undefined> = [];

  /** walkSleep()'s state between runs, and its exemption (the split levels, searched in full). */
  private readonly walk = new SleepWalk();
  private readonly exempt = (i: number): boolean => this.full(i);

  /** Drop the nodes from `length` on (the nodes left keep what the last walk recorded for them). */
  private truncate(length: number): void {
    this.stack.length = length;
    if (this.walk.walked > length) this.walk.walked = length;
    if (this.mapped > length) this.mapped = length;
  }

  /** How many leading nodes of the stack atStep has (unchanged since). */
  private mapped = 0;

  /**
   * atStep: the scheduling node of each of the run's n steps still on the stack (undefined: cut off by a sleep
   * set). The steps of the nodes atStep has are the last runs' and keep their entries; the rest are set again.
   */
  private mapSteps(n: number): void {
    const at = this.atStep, stack = this.stack;
    let k = Math.min(this.mapped, stack.length);
    const from = k < stack.length ? stack[k].step : k > 0 ? stack[k - 1].step + 1 : 0;
    while (k > 0 && stack[k - 1].step >= from) k--;
    for (let i = from; i < n; i++) at[i] = undefined;
    for (; k < stack.length; k++) { const x = stack[k]; if (x.kind === 'sched') at[x.step] = x; }
    this.mapped = stack.length;
  }

  /** Runs cut short by a sleep set so far (their states are reached elsewhere; they still count as runs). */
  sleepCut = 0;

  private get sleeping(): boolean { return this.o.reduce && this.o.sleep !== false; }
  private full(i: number): boolean { return !this.o.reduce || (this.o.shard !== undefined && i < this.o.shard.splitDepth); }

  /** With VPCI_SEARCH_DUMP (dump.ts): this search's id there. */
  private readonly dumpId: string | null;

  constructor(readonly o: SearchOptions) { this.dumpId = dumping ? dumpSearch(o) : null; }

  /** The prefix of the next run, or null when the tree (within the bound) is exhausted. */
  next(): Prefix | null {
    const p = this.choose();
    if (this.dumpId !== null) dumpPrefix(this.dumpId, p);
    return p;
  }

  private choose(): Prefix | null {
    if (!this.started) { this.started = true; return this.prefix(); }
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const n = this.stack[i];
      if (n.kind === 'fault') {
        if (!n.fail) { n.fail = true; this.truncate(i + 1); return this.prefix(); }
        continue;
      }
      const full = this.full(i);
      let cand = (full ? allowed(n, this.o.bound) : n.todo & allowed(n, this.o.bound)) & ~n.done;
      if (!full && this.sleeping) cand &= ~(n.sleep & ~n.cons);
      if (cand !== 0) {
        const t = 31 - Math.clz32(cand & -cand);
        // The subtree under the old choice is searched: its step may sleep under the next ones.
        const old = n.chosen;
        if (n.own && ((n.cons | n.sleep) >>> old & 1) === 0) n.taken.push(n.own);
        n.own = null;
        n.done |= 1 << t;
        n.chosen = t;
        this.truncate(i + 1);
        return this.prefix();
      }
    }
    return null;
  }

  private prefix(): Prefix {
    let k = 0;
    for (const n of this.stack) if (n.kind === 'sched') k++;
    const decisions = new Uint8Array(k), faults: number[] = [];
    k = 0;
    for (const n of this.stack) {
      if (n.kind === 'sched') decisions[k++] = n.chosen;
      else if (n.fail) faults.push(n.index);
    }
    return { decisions, faults };
  }

  /** After record(): preemptions of the run just made. */
  preemptions = 0;

  /** Grow the tree by the run just made with the last prefix; `ended(t)`: thread t finished its actor. */
  record(tr: Trace, ended: (t: number) => boolean): void {
    if (this.dumpId !== null) dumpTrace(this.dumpId, tr, ended);
    this.learn(tr, ended);
    if (this.dumpId !== null) dumpRecord(this.dumpId, this);
  }

  private learn(tr: Trace, ended: (t: number) => boolean): void {
    const known = this.stack.length;
    this.grow(tr);
    this.preemptions = 0;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const n = this.stack[i];
      if (n.kind === 'sched') { this.preemptions = n.pre + cost(n, n.chosen); break; }
    }
    const sh = this.o.shard;
    this.foreign = sh !== undefined && ownerOf(this.stack.slice(0, sh.splitDepth), sh.count) !== sh.index;
    // Steps before the node the prefix changed are the last run's (the model is deterministic given the
    // choices), and so are their nodes: their races within the last run's limit were reversed then. (Read
    // before `reversed` is cleared: read after, as until now, it was always 0 and every run reversed every race.)
    const stable = this.reversed && known > 0 ? Math.min(this.stack[known - 1].step, this.limit) : 0;
    this.reversed = false;
    // Within another shard's subtree only the split levels matter (they are explored in full anyway).
    if (this.foreign) { this.truncate(Math.min(this.stack.length, sh!.splitDepth)); return; }
    if (!this.o.reduce) return;
    const limit = this.sleeping ? this.cutBySleep(tr, known) : tr.steps.length;
    this.mapSteps(tr.steps.length);
    this.tr = tr;
    races(tr.steps, tr.threads, ended, limit, this.reverse, stable, this);
    this.reversed = true;
    this.limit = limit;
  }

  /** The last record() reversed its races (it was no other shard's run, and reduced), of the steps before `limit`. */
  private reversed = false;
  private limit = 0;
  /** The run being recorded, for reverse(). */
  private tr: Trace = { threads: 0, steps: [], faults: [] };
  /** tryAt()'s decisions tried for the current race: marked with the race's number. */
  private tried = new Int32Array(64);
  private race = 0;

  /** Try t before the step at decision j (a race), and where else the bound or CHESS's yield may call for it. */
  private readonly reverse = (j: number, t: number): void => {
    if (this.tr.steps.length > this.tried.length) this.tried = new Int32Array(2 * this.tr.steps.length);
    this.race++;
    this.tryAt(j, t, false);
    this.cheaper(j, t);
  };

  private tryAt(k: number, t: number, cons: boolean): void {
    if (this.tried[k] === this.race) return;
    this.tried[k] = this.race;
    this.backtrack(this.atStep[k], t, cons);
    // CHESS's yield: where t gave way it cannot run; its next step can come first only after some other
    // thread's step. backtrack() tries the others there; and t's last attempt moved before the step that
    // preceded it (or wherever that is cheaper) lets that step be the one it gives way to.
    // test/lib/verify/verify-search.test.ts's random programs with yields lose states without either.
    const steps = this.tr.steps;
    if (steps[k].current === t && steps[k].yielding) {
      let y = k - 1;
      while (y > 0 && steps[y - 1].thread === t) y--;
      if (y > 0) { this.tryAt(y - 1, t, true); this.cheaper(y - 1, t); }
    }
  }

  // Bounded search (after Coons, Musuvathi, McKinley, OOPSLA 2013): the reversal may need more preemptions at
  // k than the bound allows; also try it where the thread of k was switched to and at the decision before
  // (the last step of the thread it replaced), where it may be cheaper. Conservative: the soundness test of
  // reduced against unreduced search (test/lib/explore/verify.test.ts, bench/verify.ts) missed a state without the second.
  private cheaper(k: number, t: number): void {
    const steps = this.tr.steps;
    let s = k;
    while (s > 0 && steps[s - 1].thread === steps[k].thread) s--;
    if (s !== k) this.tryAt(s, t, true);
    if (s > 0) this.tryAt(s - 1, t, true);
  }

  /**
   * Sleep sets along the run; when its default continuation picked a sleeping thread at some new node, the run is
   * redundant from there: drop the nodes below, try a thread that is awake there instead (if any is within the
   * bound), and return that node's step (races count only before it). Else the run's length.
   */
  private cutBySleep(tr: Trace, known: number): number {
    const b = walkSleep(this.stack, tr, this.o.bound, known, this.exempt, this.walk);
    if (b < 0) return tr.steps.length;
    const n = this.stack[b] as SchedNode;
    this.truncate(b + 1);
    const awake = allowed(n, this.o.bound) & ~n.sleep & ~n.done;
    n.todo |= awake & -awake;
    this.sleepCut++;
    return n.step;
  }

  /** `cons`: one of the bounded search's extra points (sleep.ts: run even if asleep, put nobody to sleep). */
  private backtrack(n: SchedNode | undefined, t: number, cons: boolean): void {
    if (!n) return;
    // A thread that cannot run here (blocked, or yielding while another can run): every thread that can.
    const others = n.runnable & ~(1 << t);
    const m = (n.runnable >>> t) & 1 && !(n.yielding && n.current === t && others !== 0) ? 1 << t : n.yielding && n.current === t ? others : n.runnable;
    if (cons) n.cons |= m; // once asked for conservatively, it stays so (the safer reading)
    n.todo |= m;
  }

  /**
   * The run's nodes in order (each decision, then the fault points that branched in its step): the first
   * `stack.length` must be the stack's (the forced prefix), the rest are pushed. Only the new ones are built, and
   * only the prefix's last decision and the fault points after it are checked against the run.
   */
  private grow(tr: Trace): void {
    const known = this.stack.length, faults = tr.faults;
    // Branching fault points by step, in log order (a counting sort: the log is in step order anyway).
    const n = tr.steps.length;
    const at = scratch(n + 1);
    for (const f of faults) if (f.branch && f.step >= 0 && f.step < n) at[f.step + 1]++;
    for (let i = 0; i < n; i++) at[i + 1] += at[i];
    const order = scratchOrder(at[n]);
    for (let k = 0; k < faults.length; k++) {
      const f = faults[k];
      if (f.branch && f.step >= 0 && f.step < n) order[at[f.step]++] = k;
    }
    // The nodes before the last scheduling node of the forced prefix are the last run's (it replays their steps):
    // start there, with its preemptions so far and the fault points of the steps before it passed over.
    let x = known - 1;
    while (x >= 0 && this.stack[x].kind !== 'sched') x--;
    const from = x >= 0 ? this.stack[x] as SchedNode : null;
    let pre = from ? from.pre : 0, o = from && from.step > 0 ? at[from.step - 1] : 0;
    if (!from) x = 0;
    for (let i = from ? from.step : 0; i < n; i++) {
      const s = tr.steps[i];
      if (x < known) this.check(x, 'sched', i, s.thread);
      else this.stack.push({ kind: 'sched', step: i, runnable: s.runnable, current: s.current, yielding: s.yielding, chosen: s.thread, pre, todo: 1 << s.thread, done: 1 << s.thread, cons: 0, sleep: 0, own: null, taken: [] });
      pre += cost(s, s.thread);
      x++;
      // `at[i]` is now where step i + 1's fault points start: step i's end.
      for (; o < at[i]; o++, x++) {
        const f = faults[order[o]];
        // A fault point fails in the run when its log entry says so (the log has one entry per index).
        if (x < known) this.check(x, 'fault', i, -1);
        else this.stack.push({ kind: 'fault', step: i, index: f.index, fail: f.fail });
      }
    }
  }

  private check(i: number, kind: Node['kind'], step: number, chosen: number): void {
    const a = this.stack[i];
    if (a.kind !== kind || a.step !== step || (a.kind === 'sched' && a.chosen !== chosen)) {
      throw new Error(`verify: the run left its forced prefix at node ${i} (the model is not deterministic given the choices)`);
    }
  }
}

/** Working arrays of grow(), kept across runs: zeroed counts, and room for an order. */
let counts = new Int32Array(64), orders = new Int32Array(64);
function scratch(n: number): Int32Array {
  if (n > counts.length) counts = new Int32Array(Math.max(n, 2 * counts.length));
  counts.fill(0, 0, n);
  return counts;
}
function scratchOrder(n: number): Int32Array {
  if (n > orders.length) orders = new Int32Array(Math.max(n, 2 * orders.length));
  return orders;
}

/** Which shard owns the subtree under these split-level choices (a deterministic hash of them). */
function ownerOf(nodes: readonly Node[], count: number): number {
  let h = 0x811c9dc5;
  for (const n of nodes) h = Math.imul(h ^ (n.kind === 'sched' ? n.chosen : n.fail ? 0x100 : 0x200), 16777619);
  return (h >>> 0) % count;
}
