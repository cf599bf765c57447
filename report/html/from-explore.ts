// explore's result (stress/explore-cells.ts) as a report page.

import type { ExploreCell, ExploreJson, FailureRecord } from '../explore-cells.js';
import { replayFor } from '../replay.js';
import type { ReportModel, FailureSection, MatrixCell, Tone } from './model.js';
import type { TimelineInput } from '../timeline.js';
import { provenance } from '../known-bugs.js';
import { freeHalf } from '../race-halves.js';
import { envLine } from './env.js';

/** A report timeline shows at most this many of the last events; the JSON keeps the whole flight record. */
export const REPORT_EVENTS = 400;
/** An expected failure's timeline, which a reader rarely opens, shows the last this many (the crash and its run-up). */
export const COMPACT_EVENTS = 60;

export function failureTimeline(title: string, replay: string, f: Pick<FailureRecord, 'outcome' | 'verdict' | 'schedule' | 'where' | 'message'> & { cpuNames: string[]; lockClasses: string[]; crashCpu?: number | null; events: TimelineInput['events'] }, keep = REPORT_EVENTS): TimelineInput {
  return {
    title, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule || undefined, replayCommand: replay, cpuNames: f.cpuNames, lockClasses: f.lockClasses,
    events: f.events.slice(-keep),
    crash: f.crashCpu !== undefined && f.crashCpu !== null ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  };
}

const cut = (n: number, keep: number): string | undefined => (n > keep ? `the timeline shows the last ${keep} of ${n} events; the JSON keeps all${keep < REPORT_EVENTS ? ', and the replay command draws the whole run' : ''}` : undefined);

/** Surprises keep their long timelines (what a reader opens); expected and acceptable failures a compact one. */
export const keepFor = (verdict: string): number => (verdict === 'forbidden' ? REPORT_EVENTS : COMPACT_EVENTS);

export function exploreReport(j: ExploreJson, title = 'vpci-lab explore'): ReportModel {
  const failures: FailureSection[] = [];
  const idOf = (scenario: string, strategy: string, kind: string): string => `${kind}-${scenario}-${strategy}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const section = (c: ExploreCell, f: FailureRecord, kind: string): FailureSection => ({
    id: idOf(c.scenario, c.strategy, kind), title: `${c.scenario} / ${c.strategy}`, tone: f.verdict, outcome: f.outcome,
    summary: `${kind === 'surprise' ? 'surprise: ' : ''}${f.outcome} (${f.verdict})${f.where ? ` in ${f.where}` : ''}${f.vcpu ? ` on ${f.vcpu}` : ''}, run ${f.run}`,
    replay: replayFor(c, f.schedule), note: cut(f.events.length, keepFor(f.verdict)),
    description: j.descriptions?.[c.scenario], provenance: provenance(c.strategy, f),
    otherHalf: freeHalf(f.events, { outcome: f.outcome, crashCpu: f.crashCpu, where: f.where, cpuNames: f.cpuNames }),
    timeline: failureTimeline(`${c.scenario} under ${c.strategy} (run ${f.run})`, replayFor(c, f.schedule), f, keepFor(f.verdict)),
  });
  // Surprises first: they are what a reader must see.
  for (const c of j.cells) if (c.surprise && c.surprise.run !== c.firstFailure?.run) failures.push(section(c, c.surprise, 'surprise'));
  for (const c of j.cells) if (c.firstFailure) failures.push(section(c, c.firstFailure, 'first'));
  failures.sort((a, b) => Number(b.tone === 'forbidden') - Number(a.tone === 'forbidden'));
  const cellFor = (scenario: string, strategy: string): MatrixCell | null => {
    const c = j.cells.find((x) => x.scenario === scenario && x.strategy === strategy);
    if (!c) return null;
    const parts: Array<{ label: string; count?: number; tone: Tone; outcome: string }> = [];
    for (const t of c.tally) {
      const m = parts.find((p) => p.label === t.outcome && p.tone === t.verdict);
      if (m) m.count = (m.count ?? 0) + t.count; else parts.push({ label: t.outcome, count: t.count, tone: t.verdict, outcome: t.outcome });
    }
    parts.sort((a, b) => (b.count ?? 0) - (a.count ?? 0));
    for (const p of parts) if (p.count === c.runs) p.count = undefined;
    const sites = c.tally.filter((t) => t.where).map((t) => `${t.outcome} in ${t.where} (${t.verdict}) ${t.count}`);
    const target = c.surprise ? (c.surprise.run !== c.firstFailure?.run ? 'surprise' : 'first') : c.firstFailure ? 'first' : undefined;
    return { parts, title: `${scenario} under ${strategy}: ${c.runs} runs${sites.length ? `; ${sites.join('; ')}` : ''}`, href: target && idOf(scenario, strategy, target) };
  };
  return {
    title,
    subtitle: `${j.runs} controlled runs per cell (${j.chooser}${j.chooser === 'pct' ? ` depth ${j.pctDepth}` : ''}, seed ${j.seed}); ${j.cells.length} cells${j.shard ? `; shard ${j.shard.index + 1}/${j.shard.count}` : ''}${j.interrupted ? '; interrupted' : ''}`,
    matrix: { corner: 'scenario', columns: j.strategies, rows: j.scenarios.map((sc) => ({ name: sc, description: j.descriptions?.[sc], cells: j.strategies.map((st) => cellFor(sc, st)) })) },
    legend: [{ tone: 'expected', text: 'expected: the analysis predicts it' }, { tone: 'acceptable', text: 'acceptable: allowed, not predicted' }, { tone: 'forbidden', text: 'surprise: the scenario forbids it' }],
    failures,
    summary: {
      surprises: j.cells.filter((c) => c.surprise).map((c) => ({ text: `${c.scenario} / ${c.strategy}: ${c.surprise!.outcome}${c.surprise!.where ? ` in ${c.surprise!.where}` : ''} (${c.verdicts.forbidden} of ${c.runs} runs; ${provenance(c.strategy, c.surprise!)})`,
        href: idOf(c.scenario, c.strategy, c.surprise!.run !== c.firstFailure?.run ? 'surprise' : 'first') })),
      env: envLine({ cores: j.cores }),
    },
  };
}
