// How verify speaks: the verdict line of one cell, the scenario x strategy matrix, the JSON, and the merge of
// shards' JSON into one verdict.

import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import { FAULT_KINDS } from '../lib/sched/fault.js';
import type { VerifyResult, FailureReport, OutcomeStat } from './verify.js';
import { table } from './report.js';

export type VerdictKind = 'verified' | 'refuted' | 'incomplete';

export function verdictOf(r: VerifyResult): VerdictKind {
  return r.firstFailure ? 'refuted' : r.complete ? 'verified' : 'incomplete';
}

export function kindsText(kinds: number): string {
  return FAULT_KINDS.filter((_, i) => (kinds >>> i) & 1).join(',');
}

export function boundsText(r: Pick<VerifyResult, 'bound' | 'kinds' | 'maxFaults'>): string {
  const k = Number.isFinite(r.bound) ? `K=${r.bound}` : 'K=all';
  return r.kinds === 0 || r.maxFaults === 0 ? `${k}, no faults` : `${k}, faults<=${r.maxFaults}: ${kindsText(r.kinds)}`;
}

export function verdictLine(r: VerifyResult): string {
  const tail = `${r.runs} runs, ${r.digests.length} distinct terminal states, ${r.forbidden} forbidden`;
  const v = verdictOf(r);
  if (v === 'refuted') {
    const f = r.firstFailure!;
    return `refuted: ${f.outcome} at ${f.where || '?'} with ${f.preemptions} preemption${f.preemptions === 1 ? '' : 's'} (${boundsText(r)}; ${tail})`;
  }
  if (v === 'incomplete') return `incomplete after ${r.runs} runs (${boundsText(r)}; cut by ${r.cutBy}): ${r.digests.length} distinct terminal states so far, ${r.forbidden} forbidden`;
  return `verified (${boundsText(r)}): ${tail}`;
}

/** Outcomes reached, each with its verdict mark and the fewest preemptions that reach it. */
export function outcomeLines(r: VerifyResult): string[] {
  const mark = { expected: '+', acceptable: '~', forbidden: '!' } as const;
  return OUTCOMES.filter((o) => r.outcomes[o]).map((o) => {
    const s = r.outcomes[o]!;
    return `  ${o}${mark[s.verdict]}  ${s.runs} runs, fewest preemptions ${s.minPreemptions}, at ${s.where.join(', ') || '-'}; e.g. ${s.schedule}`;
  });
}

export function matrixCell(r: VerifyResult): string {
  const v = verdictOf(r);
  const bad = r.forbidden > 0 ? ` ${r.forbidden}!` : '';
  if (v === 'refuted') return `refuted ${r.firstFailure!.outcome}@${r.firstFailure!.preemptions}p${bad}`;
  if (v === 'incomplete') return `incomplete ${r.runs}r${bad}`;
  return `verified ${r.runs}r ${r.digests.length}s${bad}`;
}

export function matrix(results: VerifyResult[]): string {
  const scen = [...new Set(results.map((r) => r.scenario))];
  const strat = [...new Set(results.map((r) => r.strategy))];
  const rows = [['scenario', ...strat], ...scen.map((s) => [s, ...strat.map((t) => {
    const r = results.find((x) => x.scenario === s && x.strategy === t);
    return r ? matrixCell(r) : '-';
  })])];
  return table(rows, rows[0].map(() => 'l'));
}

/** JSON of a cell: everything but the interleavings (those go to the HTML timeline). */
export function cellJson(r: VerifyResult): unknown {
  const strip = (f: FailureReport | null): unknown => f && { outcome: f.outcome, verdict: f.verdict, where: f.where, vcpu: f.vcpu, message: f.message, preemptions: f.preemptions, schedule: f.schedule };
  return { ...r, bound: Number.isFinite(r.bound) ? r.bound : 'all', verdict: verdictOf(r), line: verdictLine(r), firstFailure: strip(r.firstFailure), firstForbidden: strip(r.firstForbidden) };
}

type CellJson = Omit<VerifyResult, 'bound' | 'firstFailure' | 'firstForbidden'> & { bound: number | 'all'; firstFailure: FailureReport | null; firstForbidden: FailureReport | null };

/** Shards of one search (same scenario, strategy and bounds) -> one result: sums, unions, the best failure. */
export function mergeCells(cells: CellJson[]): VerifyResult {
  const a = cells[0];
  const key = (c: CellJson): string => JSON.stringify([c.scenario, c.strategy, c.bound, c.reduce, c.sleep, c.kinds, c.maxFaults, c.shard?.count]);
  for (const c of cells) if (key(c) !== key(a)) throw new Error(`cannot merge ${c.scenario}/${c.strategy} searches with different bounds or shard counts`);
  const count = a.shard?.count ?? 1;
  const have = new Set(cells.map((c) => c.shard?.index ?? 0));
  const outcomes: Partial<Record<Outcome, OutcomeStat>> = {};
  for (const c of cells) for (const [o, s] of Object.entries(c.outcomes) as Array<[Outcome, OutcomeStat]>) {
    const m = outcomes[o];
    if (!m) { outcomes[o] = { ...s, where: [...s.where] }; continue; }
    m.runs += s.runs;
    for (const w of s.where) if (!m.where.includes(w)) m.where.push(w);
    if (s.minPreemptions < m.minPreemptions) { m.minPreemptions = s.minPreemptions; m.schedule = s.schedule; }
  }
  const best = (fs: Array<FailureReport | null>): FailureReport | null =>
    fs.filter((f): f is FailureReport => f !== null).sort((x, y) => x.preemptions - y.preemptions)[0] ?? null;
  const complete = cells.every((c) => c.complete) && have.size === count;
  return {
    ...a, bound: a.bound === 'all' ? Infinity : a.bound, shard: undefined,
    runs: sum(cells.map((c) => c.runs)), runsMade: sum(cells.map((c) => c.runsMade)), sleepCut: sum(cells.map((c) => c.sleepCut ?? 0)),
    runsByBound: a.runsByBound.map((_, i) => sum(cells.map((c) => c.runsByBound[i] ?? 0))),
    complete, cutBy: complete ? undefined : cells.find((c) => c.cutBy)?.cutBy ?? 'interrupt',
    outcomes, digests: [...new Set(cells.flatMap((c) => c.digests))].sort(), forbidden: sum(cells.map((c) => c.forbidden)),
    firstFailure: best(cells.map((c) => c.firstFailure)), firstForbidden: best(cells.map((c) => c.firstForbidden)),
    ms: Math.max(...cells.map((c) => c.ms)),
  };
}

const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
