// A model crash is what would have panicked or corrupted Xen. It unwinds the simulated CPU (a JS throw inside the
// model) and is caught at the vCPU thread's top level, where it becomes the trial's classified outcome.

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
    super(`${kind} in ${where}: ${detail}`);
    this.name = 'ModelCrash';
  }
}

/** Thrown into every thread of a trial once the trial is over (crash elsewhere, watchdog, interrupt). */
export class TrialStopped extends Error {
  constructor() { super('trial stopped'); this.name = 'TrialStopped'; }
}

export function crash(kind: Outcome, where: string, detail: string): never {
  throw new ModelCrash(kind, where, detail);
}

/** Xen's ASSERT(): a debug-build hypervisor panics. */
export function ASSERT(cond: boolean, where: string, what: string): void {
  if (!cond) crash('assert', where, `Assertion '${what}' failed`);
}

/** Xen's BUG_ON(). */
export function BUG_ON(cond: boolean, where: string, what: string): void {
  if (cond) crash('bug', where, `BUG_ON(${what})`);
}
