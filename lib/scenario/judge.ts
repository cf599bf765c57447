// The one judge of a run's outcome, used by repro, explore, verify and hunt. The expectation format (expected,
// acceptable, anything else forbidden; no crash, deadlock or hang ever acceptable; a crash named with its site when
// it is not the race itself) is lib/strategy/expect.ts. Which expectations judge a run is a rule, chosen once per
// scenario x strategy and printed with the results:
//   1. the scenario's own entry for the strategy (by name; '*' for the names it does not list), for a built-in
//      strategy always, for a patch when the scenario names it;
//   2. a patch's own `expect` entry for the scenario (by scenario name, or '*');
//   3. on a built-in scenario (or a file that has no '*'), a patch is judged as a proposed fix: ok expected, a
//      strategy's deliberate domain crash acceptable, every crash, deadlock, hang, restart budget and stale mapping
//      forbidden, except the generation's own known bugs the scenario names (`known`), which are expected.
// Known bugs are expected under every strategy of their generation: a scenario names them once.

import { OUTCOMES, CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';
import { GENERATIONS, loadedStrategy, type Strategy } from '../strategy/index.js';
import type { ExpectEntry, Expectation, Expectations } from '../strategy/expect.js';

export { NEVER_ACCEPTABLE, checkExpectations, type ExpectEntry, type Expectation, type Expectations } from '../strategy/expect.js';

export type Verdict = 'expected' | 'acceptable' | 'forbidden';

/**
 * A bug of a generation itself, which every strategy on it inherits unless it fixes it, at a site: the function
 * the crash is reported in (`where`), and where in Xen (`xen`, e.g. 'header.c:357'). A non-crash outcome
 * (stale-mapping) needs no site.
 */
export interface KnownBug { outcome: Outcome; where?: string; xen?: string; why?: string }
/** Per generation (l21, head). */
export type KnownBugs = Partial<Record<string, KnownBug[]>>;

/** What the judge needs of a scenario. */
export interface Judged { name: string; expect: Expectations; known?: KnownBugs }

/** The expectation that applies to a strategy (its own entry, else '*', else nothing: every outcome forbidden). */
export function expectationFor(expect: Expectations, strategy: string): Expectation {
  return (Object.hasOwn(expect, strategy) ? expect[strategy] : expect['*']) ?? {};
}

function matches(entry: ExpectEntry, outcome: Outcome, where: string | undefined): boolean {
  if (typeof entry === 'string') return entry === outcome;
  return entry.outcome === outcome && entry.where === where;
}

function verdictOf(e: Expectation, outcome: Outcome, where: string | undefined): Verdict {
  if (e.expected?.some((x) => matches(x, outcome, where))) return 'expected';
  if (e.acceptable?.some((x) => matches(x, outcome, where))) return 'acceptable';
  return 'forbidden';
}

/**
 * The verdict on one run by a scenario's expectations alone: `outcome` under `strategy`, crashing (if it crashed)
 * in function `where`. A site-qualified entry matches only a crash at that site; a plain entry anywhere.
 */
export function judge(expect: Expectations, strategy: string, outcome: Outcome, where?: string): Verdict {
  return verdictOf(expectationFor(expect, strategy), outcome, where);
}

/** How an entry reads in a report: `null-deref@modify_bars`. */
export function entryLabel(entry: ExpectEntry): string {
  return typeof entry === 'string' ? entry : `${entry.outcome}@${entry.where}`;
}

export const knownLabel = (k: KnownBug): string => `${k.outcome}${k.where ? ` in ${k.where}` : ''}${k.xen ? ` (${k.xen})` : ''}`;

/** The rule a scenario x strategy cell is judged by, and its verdicts. */
export interface Judge {
  /** One line: which rule, e.g. "the scenario's expectations for upstream" or "... judged as a fix on head ...". */
  readonly rule: string;
  verdict(outcome: Outcome, where?: string): Verdict;
}

const FIX: Expectation = { expected: ['ok'], acceptable: ['domain-crashed'] };

/**
 * One class for every cell's judge, its expectation copied into one shape: a verify child judges a run of each of
 * up to seven cells in turn, and a closure per cell over expectations of varying shapes (some list no acceptable
 * outcomes) sent the caller's optimised code back to the interpreter at each new cell.
 */
class CellJudge implements Judge {
  private readonly expected: readonly ExpectEntry[];
  private readonly acceptable: readonly ExpectEntry[];
  constructor(readonly rule: string, e: Expectation, private readonly known: readonly KnownBug[]) {
    this.expected = e.expected ?? [];
    this.acceptable = e.acceptable ?? [];
  }

  verdict(o: Outcome, w?: string): Verdict {
    if (listed(this.expected, o, w)) return 'expected';
    if (listed(this.acceptable, o, w)) return 'acceptable';
    for (const k of this.known) if (k.outcome === o && (k.where === undefined || k.where === w)) return 'expected';
    return 'forbidden';
  }
}

function listed(entries: readonly ExpectEntry[], o: Outcome, w: string | undefined): boolean {
  for (const x of entries) if (matches(x, o, w)) return true;
  return false;
}

/** The judge of scenario `s` under a loaded strategy; `builtinScenario`: from the lab's catalogue. */
export function judgeFor(s: Judged, strategy: string | Strategy, builtinScenario: boolean): Judge {
  const st = typeof strategy === 'string' ? loadedStrategy(strategy) : strategy;
  const known = s.known?.[st.generation.name] ?? [];
  const knownText = known.length ? `; known bug${known.length > 1 ? 's' : ''} of ${st.generation.name}: ${known.map(knownLabel).join(', ')}` : '';
  const withKnown = (e: Expectation, rule: string): Judge => new CellJudge(rule + knownText, e, known);
  const own = st.chain[st.chain.length - 1]?.expect as Expectations | undefined;
  if (!st.file || Object.hasOwn(s.expect, st.name)) {
    const which = Object.hasOwn(s.expect, st.name) ? st.name : Object.hasOwn(s.expect, '*') ? "'*'" : undefined;
    return withKnown(expectationFor(s.expect, st.name), which ? `the scenario's expectations for ${which}` : `no expectation for ${st.name}: every outcome forbidden`);
  }
  if (own && (Object.hasOwn(own, s.name) || Object.hasOwn(own, '*'))) {
    return withKnown(expectationFor(own, s.name), `the patch's own expect for ${Object.hasOwn(own, s.name) ? s.name : "'*'"} (${st.file})`);
  }
  if (!builtinScenario && Object.hasOwn(s.expect, '*')) return withKnown(s.expect['*'], "the scenario's expectations for '*'");
  return withKnown(FIX, `a patch on ${st.generation.name} judged as a fix: ok expected; every crash, deadlock, hang and stale mapping forbidden`);
}

/** The first problem with a scenario's `known`, as one line, or undefined. */
export function checkKnown(known: unknown): string | undefined {
  if (known === undefined) return undefined;
  const gens = Object.keys(GENERATIONS);
  if (!known || typeof known !== 'object' || Array.isArray(known)) return `known must be { ${gens.join(' | ')}: [{ outcome, where, xen }] }`;
  for (const [g, list] of Object.entries(known as Record<string, unknown>)) {
    if (!gens.includes(g)) return `known.${g}: not a generation (${gens.join(', ')})`;
    if (!Array.isArray(list)) return `known.${g} must be an array of { outcome, where, xen }`;
    for (const k of list as Array<Record<string, unknown>>) {
      if (!k || typeof k !== 'object' || !(OUTCOMES as readonly string[]).includes(String(k.outcome)) || k.outcome === 'ok') return `known.${g}: each entry is { outcome, where, xen } with a failing outcome (${OUTCOMES.filter((o) => o !== 'ok').join(', ')})`;
      if (CRASH_OUTCOMES.has(k.outcome as Outcome) && (typeof k.where !== 'string' || !k.where)) return `known.${g}: '${String(k.outcome)}' needs where: the function the crash happens in`;
    }
  }
  return undefined;
}
