// verify's results as a report page and as JUnit cells: the same page and XML as explore's, so a CI job shows the
// model checker's verdicts like the sampler's.

import { OUTCOMES, type Outcome } from '../../lib/mem/crash.js';
import type { VerifyResult, OutcomeStat } from '../../lib/explore/verify.js';
import { verdictOf, verdictLine, boundsText } from '../verify-text.js';
import { replayFor } from '../replay.js';
import type { JunitCell } from '../junit.js';
import type { ReportModel, FailureSection, MatrixCell, CellPart } from './model.js';
import { failureTimeline, keepFor } from './from-explore.js';
import { provenance } from '../known-bugs.js';
import { freeHalf, preemptionHalf } from '../race-halves.js';
import { envLine } from './env.js';

const stats = (r: VerifyResult): Array<[Outcome, OutcomeStat]> => OUTCOMES.filter((o) => r.outcomes[o]).map((o) => [o, r.outcomes[o]!]);
const idOf = (r: VerifyResult): string => `verify-${r.scenario}-${r.strategy}`.replace(/[^A-Za-z0-9_-]/g, '_');

/** `xen`: which Xen a C-backend run compiled (its provenance line), shown beside where the report was made. */
export function verifyReport(results: VerifyResult[], title = 'vpci-lab verify', descriptions: Record<string, string> = {}, load?: { start: number[]; end: number[] }, xen?: string): ReportModel {
  const scenarios = [...new Set(results.map((r) => r.scenario))], strategies = [...new Set(results.map((r) => r.strategy))];
  const failures: FailureSection[] = results.flatMap((r) => {
    const f = r.firstForbidden ?? r.firstFailure;
    if (!f) return [];
    const replay = replayFor(r, f.schedule);
    const keep = keepFor(f.verdict);
    const halves = f.events && [freeHalf(f.events, { outcome: f.outcome, crashCpu: f.crashCpu, where: f.where, cpuNames: f.cpuNames }),
      preemptionHalf(f.events, f.preemptions, f.cpuNames)].filter(Boolean).join('. ');
    return [{ id: idOf(r), title: `${r.scenario} / ${r.strategy}`, tone: f.verdict, outcome: f.outcome,
      summary: `${f.outcome} (${f.verdict})${f.where ? ` in ${f.where}` : ''}${f.vcpu ? ` on ${f.vcpu}` : ''} with ${f.preemptions} preemption${f.preemptions === 1 ? '' : 's'}`,
      replay, note: !f.events ? 'merged from shards\' JSON, which keeps no interleavings: replay the schedule for its timeline'
        : f.events.length > keep ? `the timeline shows the last ${keep} of ${f.events.length} events; the replay command draws the whole run` : undefined,
      description: descriptions[r.scenario], provenance: provenance(r.strategy, f), otherHalf: halves || undefined,
      timeline: f.events && failureTimeline(`${r.scenario} under ${r.strategy} (verify, ${f.preemptions} preemptions)`, replay, { ...f, crashCpu: f.crashCpu }, keep) }];
  });
  failures.sort((a, b) => Number(b.tone === 'forbidden') - Number(a.tone === 'forbidden'));
  const cell = (r: VerifyResult | undefined): MatrixCell | null => {
    if (!r) return null;
    const v = verdictOf(r);
    const parts: CellPart[] = [{ label: `${v}: ${r.runs.toLocaleString('en-US')} runs, ${r.digests.length} states`, tone: v === 'incomplete' ? 'acceptable' : 'neutral' },
      ...stats(r).map(([o, s]) => ({ label: `${o}@${s.minPreemptions}p`, count: s.runs, tone: s.verdict, outcome: o }))];
    return { parts, title: verdictLine(r), href: r.firstForbidden ?? r.firstFailure ? idOf(r) : undefined };
  };
  const first = results[0];
  return {
    title,
    subtitle: first ? `${boundsText(first)}; ${results.length} cells; ${results.filter((r) => verdictOf(r) === 'incomplete').length} incomplete` : 'no cells',
    matrix: { corner: 'scenario', columns: strategies, rows: scenarios.map((sc) => ({ name: sc, description: descriptions[sc], cells: strategies.map((st) => cell(results.find((r) => r.scenario === sc && r.strategy === st))) })) },
    legend: [{ tone: 'expected', text: 'the analysis predicts it' }, { tone: 'acceptable', text: 'allowed, or a search cut short (never verified)' },
      { tone: 'forbidden', text: 'reachable and forbidden' }, { tone: 'neutral', text: 'outcome@fewest preemptions, runs reaching it; states: distinct terminal states' }],
    failures,
    summary: {
      surprises: results.filter((r) => r.firstForbidden).map((r) => ({ text: `${r.scenario} / ${r.strategy}: ${r.firstForbidden!.outcome}${r.firstForbidden!.where ? ` in ${r.firstForbidden!.where}` : ''} with ${r.firstForbidden!.preemptions} preemption${r.firstForbidden!.preemptions === 1 ? '' : 's'} (${provenance(r.strategy, r.firstForbidden!)})`, href: idOf(r) })),
      env: `${envLine({ load })}${xen ? `; ${xen}` : ''}`,
    },
  };
}

/** One JUnit test case per cell, a failure per forbidden outcome reachable (with the fewest-preemption schedule). */
export function verifyJunitCells(results: VerifyResult[]): JunitCell[] {
  return results.map((r) => ({
    scenario: r.scenario, strategy: r.strategy, runs: r.runs, ms: r.ms, scenarioRef: r.scenarioRef, strategyRef: r.strategyRef, replayOptions: r.replayOptions,
    outcomes: Object.fromEntries(stats(r).map(([o, s]) => [o, s.runs])),
    forbidden: stats(r).filter(([, s]) => s.verdict === 'forbidden').map(([o, s]) => ({
      outcome: o, count: s.runs, run: -1, where: s.where.join(', '), vcpu: '', schedule: s.schedule,
      message: `reachable with ${s.minPreemptions} preemption${s.minPreemptions === 1 ? '' : 's'}`,
    })),
  }));
}
