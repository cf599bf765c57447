// A model crash is what would have panicked or corrupted Xen. It unwinds the simulated CPU (a JS throw inside the
// model) and is caught at the vCPU thread's top level, where it becomes the trial's classified outcome.

import { isMainThread } from 'node:worker_threads';
import { M, onAttach } from './machine.js';
import { CTL } from './regions.js';

export const OUTCOMES = [
  'ok', 'null-deref', 'use-after-free', 'double-free', 'assert', 'bug',
  'stale-mapping', 'domain-crashed', 'deadlock', 'hang',
  // A hypercall re-issued MAX_CONTINUATIONS times (lib/xen/hypercall.ts) without completing: the lab's budget.
  'restart-budget',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes that are a crash of the hypervisor itself (as opposed to a policy decision or a liveness failure). */
export const CRASH_OUTCOMES: ReadonlySet<Outcome> = new Set(['null-deref', 'use-after-free', 'double-free', 'assert', 'bug']);

export function outcomeCode(o: Outcome): number { return OUTCOMES.indexOf(o); }
export function outcomeName(code: number): Outcome { return OUTCOMES[code] ?? 'bug'; }

export class ModelCrash extends Error {
  constructor(readonly kind: Outcome, readonly where: string, detail: string) {
    // A worker's crash becomes its trial's outcome (kind, where, message) and nothing reads its stack; capturing one
    // through optimized frames was ~8% of a worker on crash-path-1, where most runs crash. The main thread keeps
    // stacks: a crash there (while booting) is a lab matter someone will debug.
    const limit = Error.stackTraceLimit;
    if (!isMainThread) Error.stackTraceLimit = 0;
    super(`${kind} in ${where}: ${detail}`);
    Error.stackTraceLimit = limit;
    this.name = 'ModelCrash';
  }
}

/** Thrown into every thread of a trial once the trial is over (crash elsewhere, watchdog, interrupt). */
export class TrialStopped extends Error {
  constructor() {
    // No stack: every parked thread of every run ends with one, and capturing a stack through optimized frames was
    // a visible part of a verify run's cost (perf: TranslatedState, OptimizedFrame::Summarize).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('trial stopped');
    Error.stackTraceLimit = limit;
    this.name = 'TrialStopped';
  }
}

export function crash(kind: Outcome, where: string, detail: string): never {
  throw new ModelCrash(kind, where, detail);
}

/**
 * CTL.FLAGS bit: the machine runs a release build of Xen (CONFIG_DEBUG=n). Its ASSERT() expands to nothing
 * (xen/include/xen/bug.h:145, `do { if ( 0 && (p) ) {} } while (0)` without CONFIG_DEBUG): the condition is
 * not even evaluated, and the code runs on past it.
 */
export const FLAG_XEN_RELEASE = 0x1000;   // CTL.FLAGS bits in use: 1, 2, 4 sync/profile.ts, 0x100 heap, 0x200 lock layouts, 0x400, 0x800 and 0x2000 sched/futex.ts
let debugBuild = true;
onAttach(() => { debugBuild = (M[CTL.FLAGS] & FLAG_XEN_RELEASE) === 0; });

/** The build this thread's machine runs: 'debug' (the default) or 'release'. */
export function xenBuild(): 'debug' | 'release' { return debugBuild ? 'debug' : 'release'; }

/**
 * Xen's ASSERT(): a debug-build hypervisor panics; a release build does not evaluate the condition. Pass the
 * condition as a function when evaluating it reads model memory (a release build must not fault there either).
 */
export function ASSERT(cond: boolean | (() => boolean), where: string, what: string): void {
  if (!debugBuild) return;
  if (!(typeof cond === 'function' ? cond() : cond)) crash('assert', where, `Assertion '${what}' failed`);
}

/** Xen's BUG_ON(). */
export function BUG_ON(cond: boolean, where: string, what: string): void {
  if (cond) crash('bug', where, `BUG_ON(${what})`);
}
