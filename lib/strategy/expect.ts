// The expectation format shared by scenarios (per strategy) and patch files (per scenario): jcstress style,
// `expected` is what a run exists to show, `acceptable` may happen and is fine, anything else is forbidden. A
// hypervisor crash, a deadlock or a hang is never "fine", so none of them may be listed as acceptable; a crash
// shown on purpose that is not the race itself is named with its site (`{ outcome: 'null-deref', where: 'modify_bars' }`).
// The judge (lib/scenario/judge.ts) applies it; this file only says what is well formed.

import { OUTCOMES, CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';

/** An outcome, or an outcome at one site (the function the crash happened in, as the report's `where`). */
export type ExpectEntry = Outcome | { outcome: Outcome; where: string };

export interface Expectation {
  /** Outcomes the scenario exists to show under this strategy (each may name its site). */
  expected?: ExpectEntry[];
  /** Outcomes that may happen and are fine: never a crash, a deadlock or a hang. Anything unlisted is forbidden. */
  acceptable?: ExpectEntry[];
}

/** Keyed by strategy name in a scenario, by scenario name in a patch; '*' applies to the names not listed. */
export type Expectations = Record<string, Expectation>;

/** Outcomes that can never be acceptable: hypervisor crashes, liveness failures, a hypercall that never completed. */
export const NEVER_ACCEPTABLE: ReadonlySet<Outcome> = new Set<Outcome>([...CRASH_OUTCOMES, 'deadlock', 'hang', 'restart-budget']);

/** The first problem with expectations, as one line, or undefined when they are well formed. */
export function checkExpectations(expect: unknown, keys = 'strategy'): string | undefined {
  if (!expect || typeof expect !== 'object' || Array.isArray(expect)) return `expect must be an object of { ${keys}: { expected, acceptable } }`;
  for (const [k, e] of Object.entries(expect as Record<string, unknown>)) {
    if (!e || typeof e !== 'object' || Array.isArray(e)) return `expect.${k} must be { expected?: [...], acceptable?: [...] }`;
    const extra = Object.keys(e).find((f) => f !== 'expected' && f !== 'acceptable');
    if (extra !== undefined) return `expect.${k} has '${extra}': an expectation has only expected and acceptable`;
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

export function checkEntry(x: unknown, at: string): string | undefined {
  const known = (o: unknown): boolean => typeof o === 'string' && (OUTCOMES as readonly string[]).includes(o);
  if (typeof x === 'string') return known(x) ? undefined : `${at} names unknown outcome '${x}' (known: ${OUTCOMES.join(', ')})`;
  if (!x || typeof x !== 'object') return `${at}: each entry is an outcome name or { outcome, where }`;
  const { outcome, where } = x as { outcome?: unknown; where?: unknown };
  if (!known(outcome)) return `${at} names unknown outcome '${String(outcome)}' (known: ${OUTCOMES.join(', ')})`;
  if (typeof where !== 'string' || where === '') return `${at}: { outcome: '${String(outcome)}' } needs where: the function the crash happens in`;
  return undefined;
}

/** The closest of `names` to `word` (edit distance), when it is near enough to be a misspelling. */
export function closest(word: string, names: Iterable<string>, max = Math.max(2, Math.floor(word.length / 4))): string | undefined {
  let best: string | undefined, bestD = max + 1;
  for (const n of names) {
    const d = editDistance(word, n);
    if (d < bestD) { best = n; bestD = d; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
