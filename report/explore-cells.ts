// Explore's result as data: one cell per scenario x strategy, what its JSON holds, what the terminal matrix, the
// HTML report, JUnit and `merge` are all made from. Shards of one explore merge cell by cell into exactly the
// unsharded result: counts add up, and the first failure is the one with the lowest (global) run number.

import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import type { Verdict } from '../lib/scenario/judge.js';
import type { ForbiddenRun, ReproResult, Tally } from '../lib/explore/repro.js';
import { failureJson } from './replay.js';
import { table } from './tables.js';
import type { TimelineEvent } from './timeline.js';

/** A failing run as JSON keeps it: the head, and the full flight record a timeline is drawn from. */
export interface FailureRecord {
  run: number; outcome: Outcome; verdict: Verdict; where: string; vcpu: string; message: string; schedule: string;
  cpuNames: string[]; lockClasses: string[]; crashCpu?: number; events: TimelineEvent[];
}

export interface ExploreCell {
  scenario: string; strategy: string; runs: number;
  outcomes: Record<Outcome, number>;
  verdicts: Record<Verdict, number>;
  /** Runs by (outcome, crash site, verdict): one outcome can be expected at one site and a surprise at another. */
  tally: Tally[];
  firstFailure: FailureRecord | null;
  surprise: FailureRecord | null;
  forbidden: ForbiddenRun[];
  /** Wall time of the cell's runs (shards: summed), for JUnit's time; the only field two equal runs differ in. */
  ms?: number;
  /** Which expectations judged the cell (lib/scenario/judge.ts). */
  rule?: string;
  /** A scenario or patch file's path, for replay lines, when it is not a built-in's name. */
  scenarioRef?: string; strategyRef?: string;
}

export interface ExploreJson {
  command: 'explore'; cores: number; runs: number; chooser: string; pctDepth: number; seed: number;
  interrupted: boolean; strategies: string[]; scenarios: string[];
  /** Each scenario's one-line description, for the report. */
  descriptions?: Record<string, string>;
  /** Present in one shard's output; absent once merged. */
  shard?: { index: number; count: number };
  cells: ExploreCell[];
}

/** One order for a tally, whatever order runs came in: shards merge into the very bytes of an unsharded run. */
const byTally = (x: Tally, y: Tally): number => y.count - x.count || OUTCOMES.indexOf(x.outcome) - OUTCOMES.indexOf(y.outcome)
  || (x.where < y.where ? -1 : x.where > y.where ? 1 : 0) || (x.verdict < y.verdict ? -1 : x.verdict > y.verdict ? 1 : 0);

export function cellOf(r: ReproResult): ExploreCell {
  return { scenario: r.scenario, strategy: r.strategy, runs: r.runs, outcomes: r.outcomes, verdicts: r.verdicts, tally: r.tally.map((t) => ({ ...t })).sort(byTally),
    firstFailure: failureJson(r.firstFailure, true) as FailureRecord | null, surprise: failureJson(r.surprise, true) as FailureRecord | null, forbidden: r.forbidden,
    rule: r.rule, ...(r.scenarioRef ? { scenarioRef: r.scenarioRef } : {}), ...(r.strategyRef ? { strategyRef: r.strategyRef } : {}) };
}

export const MARK: Record<Verdict, string> = { expected: '+', acceptable: '~', forbidden: '!' };

/** Each (outcome, verdict) seen, most frequent first, with its count unless it is every run: a crash seen at its
 * expected site and elsewhere shows twice, once with + and once with !. */
export function cellText(c: Pick<ExploreCell, 'runs' | 'tally'>): string {
  const merged: Array<{ outcome: Outcome; verdict: Verdict; count: number }> = [];
  for (const t of c.tally) {
    const m = merged.find((x) => x.outcome === t.outcome && x.verdict === t.verdict);
    if (m) m.count += t.count; else merged.push({ outcome: t.outcome, verdict: t.verdict, count: t.count });
  }
  merged.sort((a, b) => b.count - a.count || OUTCOMES.indexOf(a.outcome) - OUTCOMES.indexOf(b.outcome));
  return merged.map((m) => `${m.outcome}${MARK[m.verdict]}${m.count === c.runs ? '' : ` ${m.count}`}`).join(' ');
}

function mergeTally(a: Tally[], b: Tally[]): Tally[] {
  const out = a.map((t) => ({ ...t }));
  for (const t of b) {
    const m = out.find((x) => x.outcome === t.outcome && x.where === t.where && x.verdict === t.verdict);
    if (m) m.count += t.count; else out.push({ ...t });
  }
  return out.sort(byTally);
}

export function matrixText(j: ExploreJson): string {
  const rows = [['scenario', ...j.strategies]];
  for (const sc of j.scenarios) {
    rows.push([sc, ...j.strategies.map((st) => { const c = j.cells.find((x) => x.scenario === sc && x.strategy === st); return c ? cellText(c) : '-'; })]);
  }
  return table(rows, rows[0].map(() => 'l' as const));
}

const earlier = <T extends { run: number }>(a: T | null, b: T | null): T | null => (!a ? b : !b ? a : b.run < a.run ? b : a);

function mergeCell(a: ExploreCell, b: ExploreCell): ExploreCell {
  const outcomes = { ...a.outcomes }, verdicts = { ...a.verdicts };
  for (const o of OUTCOMES) outcomes[o] += b.outcomes[o];
  for (const v of Object.keys(verdicts) as Verdict[]) verdicts[v] += b.verdicts[v];
  const forbidden = [...a.forbidden.map((f) => ({ ...f }))];
  for (const f of b.forbidden) {
    const k = forbidden.find((x) => x.outcome === f.outcome);
    if (!k) forbidden.push({ ...f });
    else { const count = k.count + f.count; Object.assign(k, f.run < k.run ? f : k, { count }); }
  }
  forbidden.sort((x, y) => x.run - y.run);
  return { ...a, runs: a.runs + b.runs, outcomes, verdicts, tally: mergeTally(a.tally, b.tally),
    firstFailure: earlier(a.firstFailure, b.firstFailure), surprise: earlier(a.surprise, b.surprise), forbidden,
    ...(a.ms !== undefined || b.ms !== undefined ? { ms: Math.round((a.ms ?? 0) + (b.ms ?? 0)) } : {}) };
}

/** Shards (or any explores of the same settings) into one result. */
export function mergeExplore(parts: ExploreJson[]): ExploreJson {
  const [first] = parts;
  for (const p of parts) {
    for (const k of ['runs', 'chooser', 'pctDepth', 'seed'] as const) {
      if (p[k] !== first[k]) throw new Error(`cannot merge explores with different --${k === 'pctDepth' ? 'pct-depth' : k}: ${String(first[k])} and ${String(p[k])}`);
    }
  }
  const cells = new Map<string, ExploreCell>();
  for (const p of parts) for (const c of p.cells) { const k = `${c.scenario}\u0000${c.strategy}`; const m = cells.get(k); cells.set(k, m ? mergeCell(m, c) : c); }
  const union = (xs: string[][]): string[] => [...new Set(xs.flat())];
  return { command: 'explore', cores: first.cores, runs: first.runs, chooser: first.chooser, pctDepth: first.pctDepth, seed: first.seed,
    interrupted: parts.some((p) => p.interrupted), strategies: union(parts.map((p) => p.strategies)), scenarios: union(parts.map((p) => p.scenarios)),
    ...(parts.some((p) => p.descriptions) ? { descriptions: Object.assign({}, ...parts.map((p) => p.descriptions ?? {})) as Record<string, string> } : {}),
    cells: [...cells.values()] };
}

/** Cells whose runs all happened: a merged set of shards that misses one is incomplete, not clean. */
export const missingRuns = (j: ExploreJson): ExploreCell[] => j.cells.filter((c) => c.runs < j.runs);
