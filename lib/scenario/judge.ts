// The one judge of a run's outcome against a scenario's expectations, used by repro, explore, verify and hunt.
// jcstress style: `expected` is what the scenario exists to show under a strategy, `acceptable` may happen and is
// fine, anything else is forbidden (a surprise). Two rules keep a verdict honest:
// - a hypervisor crash, a deadlock or a hang is never "fine", so none of them may be listed as acceptable;
// - a crash a scenario shows on purpose is named with its site when it is not the race the scenario is about
//   (`{ outcome: 'null-deref', where: 'modify_bars' }`): the same outcome anywhere else is a surprise.

import { OUTCOMES, CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';

/** An outcome, or an outcome at one site (the function the crash happened in, as the report's `where`). */
export type ExpectEntry = Outcome | { outcome: Outcome; where: string };

export interface Expectation {
  /** Outcomes the scenario exists to show under this strategy (each may name its site). */
  expected?: ExpectEntry[];
  /** Outcomes that may happen and are fine: never a crash, a deadlock or a hang. Anything unlisted is forbidden. */
  acceptable?: ExpectEntry[];
}

/** Per strategy name; '*' applies to strategies not listed. */
export type Expectations = Record<string, Expectation>;

export type Verdict = 'expected' | 'acceptable' | 'forbidden';

/** Outcomes that can never be acceptable: hypervisor crashes, liveness failures, a hypercall that never completed. */
export const NEVER_ACCEPTABLE: ReadonlySet<Outcome> = new Set<Outcome>([...CRASH_OUTCOMES, 'deadlock', 'hang', 'restart-budget']);

/** The expectation that applies to a strategy (its own entry, else '*', else nothing: every outcome forbidden). */
export function expectationFor(expect: Expectations, strategy: string): Expectation {
  return (Object.hasOwn(expect, strategy) ? expect[strategy] : expect['*']) ?? {};
}

function matches(entry: ExpectEntry, outcome: Outcome, where: string | undefined): boolean {
  if (typeof entry === 'string') return entry === outcome;
  return entry.outcome === outcome && entry.where === where;
}

/**
 * The verdict on one run: `outcome` under `strategy`, crashing (if it crashed) in function `where`.
 * A site-qualified entry matches only a crash at that site; a plain entry matches the outcome anywhere.
 */
export function judge(expect: Expectations, strategy: string, outcome: Outcome, where?: string): Verdict {
  const e = expectationFor(expect, strategy);
  if (e.expected?.some((x) => matches(x, outcome, where))) return 'expected';
  if (e.acceptable?.some((x) => matches(x, outcome, where))) return 'acceptable';
  return 'forbidden';
}

/** How an entry reads in a report: `null-deref@modify_bars`. */
export function entryLabel(entry: ExpectEntry): string {
  return typeof entry === 'string' ? entry : `${entry.outcome}@${entry.where}`;
}

/** The first problem with a scenario's expectations, as one line, or undefined when they are well formed. */
export function checkExpectations(expect: unknown): string | undefined {
  if (!expect || typeof expect !== 'object' || Array.isArray(expect)) return 'expect must be an object of { strategy: { expected, acceptable } }';
  for (const [k, e] of Object.entries(expect as Record<string, unknown>)) {
    if (!e || typeof e !== 'object' || Array.isArray(e)) return `expect.${k} must be { expected?: [...], acceptable?: [...] }`;
    for (const list of ['expected', 'acceptable'] as const) {
      const xs = (e as Record<string, unknown>)[list];
      if (xs === undefined) continue;
      if (!Array.isArray(xs)) return `expect.${k}.${list} must be an array`;
      for (const x of xs as unknown[]) {
        const problem = checkEntry(x, `expect.${k}.${list}`);
        if (problem) return problem;
        const o = typeof x === 'string' ? x as Outcome : (x as { outcome: Outcome }).outcome;
        if (list === 'acceptable' && NEVER_ACCEPTABLE.has(o)) {
          return `expect.${k}.acceptable lists '${o}': a hypervisor crash, deadlock, hang or exceeded restart budget is never acceptable (list it under expected, with its site if it is not the race the scenario is about)`;
        }
      }
    }
  }
  return undefined;
}

function checkEntry(x: unknown, at: string): string | undefined {
  const known = (o: unknown): boolean => typeof o === 'string' && (OUTCOMES as readonly string[]).includes(o);
  if (typeof x === 'string') return known(x) ? undefined : `${at} names unknown outcome '${x}' (known: ${OUTCOMES.join(', ')})`;
  if (!x || typeof x !== 'object') return `${at}: each entry is an outcome name or { outcome, where }`;
  const { outcome, where } = x as { outcome?: unknown; where?: unknown };
  if (!known(outcome)) return `${at} names unknown outcome '${String(outcome)}' (known: ${OUTCOMES.join(', ')})`;
  if (typeof where !== 'string' || where === '') return `${at}: { outcome: '${String(outcome)}' } needs where: the function the crash happens in`;
  return undefined;
}
