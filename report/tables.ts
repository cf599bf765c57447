// Text reports of a stress campaign: the outcome matrix with each strategy's cost next to its safety, one lock
// table with wait and hold percentiles, and one line per first failure (the flight records are in the JSON and the
// HTML report, not on the terminal).

import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import type { StrategyTotals } from '../lib/explore/campaign.js';
import { knownBugOf, provenance, knownLegend } from './known-bugs.js';
import type { FirstFailure } from '../lib/explore/campaign.js';
import { histogramsOf, ratioVsBase, type StressJson, type StressResultJson } from './stress-json.js';

export { stressJson } from './stress-json.js';

export function table(rows: string[][], align: Array<'l' | 'r'> = []): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

const rate = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const us = (ns: number): string => (ns / 1000).toFixed(ns < 10_000 ? 1 : 0);

/** One locktorture-style stats line. */
export function statsLine(t: StrategyTotals): string {
  const seen = OUTCOMES.filter((o) => t.outcomes[o] > 0).map((o) => `${o} ${t.outcomes[o]}`).join(' ');
  return `[stress] ${t.strategy}: trials ${t.trials} | ${seen || 'no trials yet'} | ${fmt(rate(t.guestAccesses, t.durationMs))} accesses/s ${fmt(rate(t.hypercalls, t.durationMs))} hypercalls/s`;
}

/** "vs baseline" and its spread across blocks of rounds, as the matrix and the README show them. */
export function vsBase(t: StressResultJson, base: StressResultJson | undefined): { ratio: string; spread: string } {
  if (!base) return { ratio: '-', spread: '-' };
  const r = ratioVsBase(t, base);
  if (t === base) return { ratio: '1.00x', spread: '-' };
  return { ratio: `${r.ratio.toFixed(2)}x`, spread: r.lo !== undefined ? `${r.median!.toFixed(2)} (${r.lo.toFixed(2)}-${r.hi!.toFixed(2)}, ${r.n})` : '-' };
}

/** The outcome matrix with each strategy's cost next to its safety (the README's stress table is this). */
export function matrix(j: Pick<StressJson, 'results'>): string {
  const all = j.results;
  const kinds: Outcome[] = OUTCOMES.filter((o) => o === 'ok' || all.some((t) => t.outcomes[o] > 0));
  const base = all.find((t) => t.strategy === 'baseline');
  const rows = [['strategy', 'trials', ...kinds, 'accesses/s', 'vs baseline', 'per block: median (p10-p90, n)', 'hypercalls/s', 'add+remove', 'pending done']];
  for (const t of all) {
    const v = vsBase(t, base);
    rows.push([t.strategy, String(t.trials), ...kinds.map((k) => String(t.outcomes[k])), fmt(rate(t.guestAccesses, t.durationMs)),
      v.ratio, v.spread, fmt(rate(t.hypercalls, t.durationMs)), String(t.addRemove), String(t.pendingDone)]);
  }
  const note = base && all.length > 1 ? `\nvs baseline: guest accesses/s over all trials against baseline's; per block: the same ratio in each block of ${base.blocks?.size ?? 8} rounds (strategies take turns\ntrial by trial, so a block's trials ran under the same load): its median, 10th-90th percentile and the number of blocks. A range that spans 1 is noise` : '';
  return table(rows, ['l']) + note;
}

function lockTable(j: StressJson): string {
  const rows = [['strategy', 'lock class', 'acquired', 'contended', 'wait p50 us', 'wait p99 us', 'max wait us', 'hold p99 us', 'max hold us']];
  for (const t of j.results) {
    const h = histogramsOf(t);
    for (const l of t.locks) {
      const x = h.get(l.name);
      const p = (k: 'wait' | 'hold', q: number): string => (x && x[k].totalCount ? us(x[k].getValueAtPercentile(q)) : '-');
      rows.push([t.strategy, l.name, l.acquisitions.toLocaleString('en-US'), `${((100 * l.contended) / Math.max(1, l.acquisitions)).toFixed(1)}%`,
        p('wait', 50), p('wait', 99), us(l.maxWaitNs), p('hold', 99), us(l.maxHoldNs)]);
    }
  }
  return rows.length > 1 ? table(rows, ['l', 'l']) : '';
}

/** A stress first failure as the known-bug matcher reads it: its full flight record, when kept. */
export const stressFailureLike = (f: FirstFailure): { outcome: FirstFailure['outcome']; where: string; message: string; events: NonNullable<FirstFailure['record']>['events']; crashCpu?: number; partial: true } =>
  ({ outcome: f.outcome, where: f.where, message: f.message, events: f.record?.events ?? [], crashCpu: f.record?.crashCpu, partial: true });

export function summary(j: StressJson): string {
  if (j.results.length === 0) return 'no trials ran';
  const out = [matrix(j), '', lockTable(j), ''];
  // Every failure row says whether it is a known bug of its generation (with its Xen lines below) or a finding.
  const known = j.results.flatMap((t) => t.firstFailures.map((f) => knownBugOf(t.strategy, stressFailureLike(f))));
  const firsts = j.results.flatMap((t) => t.firstFailures.map((f) => [t.strategy, f.outcome, f.where ? `in ${f.where}` : '', f.vcpu ? `on ${f.vcpu}` : '', `trial ${f.trial}`,
    provenance(t.strategy, stressFailureLike(f))]));
  out.push(firsts.length ? `first failures:\n${table(firsts.map((r) => ['', ...r]), ['l', 'l', 'l', 'l', 'l', 'l', 'l'])}` : 'no failures');
  const legend = knownLegend(known);
  if (legend.length) out.push('known bugs of the generations (not findings of the lab):', ...legend.map((l) => `  ${l}`));
  const lockdep = j.results.flatMap((t) => t.lockdep.slice(0, 2).map((m) => `  ${t.strategy}: ${m.split('\n')[0]}`));
  if (lockdep.length) out.push('', 'lockdep:', ...lockdep);
  return out.join('\n');
}
