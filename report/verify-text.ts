// How verify speaks: the verdict line of one cell, the scenario x strategy matrix, the JSON, and the merge of
// shards' JSON into one verdict.

import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import { FAULT_KINDS } from '../lib/sched/fault.js';
import type { VerifyResult, FailureReport, OutcomeStat } from '../lib/explore/verify.js';
import { table } from './tables.js';

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

/** What the matrix's abbreviations mean, printed under it. */
export const MATRIX_KEY = 'Nr: runs, Ns: distinct terminal states, outcome@Np: reached with N preemptions at fewest, N!: runs ending in a forbidden outcome';

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

export { mergeCells } from '../lib/explore/verify-merge.js';
