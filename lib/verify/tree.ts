// The nodes of verify's search tree and what a choice at a scheduling node costs under the preemption bound.

/** One step that may sleep (sleep.ts): its thread, its footprint, and whether switching away right after it costs a preemption. */
export interface Sleeper { thread: number; fp: number[]; universal: boolean; after: 0 | 1 }

export interface SchedNode {
  kind: 'sched'; step: number; runnable: number; current: number; yielding: boolean; chosen: number; pre: number;
  /** Threads races call for here, threads already run here, and those of the first kind only a bounded race's extra points asked for. */
  todo: number; done: number; cons: number;
  /** Threads asleep on entry (sleep.ts), set after every run. */
  sleep: number;
  /** The chosen thread's step in the latest run, if it may go to sleep for the next siblings (null: it may not). */
  own: Sleeper | null;
  /** Siblings run before the chosen one whose steps may sleep in its subtree. */
  taken: Sleeper[];
}
export interface FaultNode { kind: 'fault'; step: number; index: number; fail: boolean }
export type Node = SchedNode | FaultNode;

/** 1 when choosing t at n switches away from a thread that could go on (CHESS's preemption), else 0. */
export function cost(n: Pick<SchedNode, 'current' | 'yielding' | 'runnable'>, t: number): 0 | 1 {
  return n.current >= 0 && !n.yielding && t !== n.current && ((n.runnable >>> n.current) & 1) !== 0 ? 1 : 0;
}

/** Threads that may be chosen at n within the bound. A yielding thread gives way (CHESS's yield): never itself while another can run. */
export function allowed(n: SchedNode, bound: number): number {
  let r0 = n.runnable;
  if (n.yielding && n.current >= 0 && (r0 & ~(1 << n.current)) !== 0) r0 &= ~(1 << n.current);
  let m = 0;
  for (let t = 0, r = r0; r !== 0; t++, r >>>= 1) if ((r & 1) && n.pre + cost(n, t) <= bound) m |= 1 << t;
  return m;
}
