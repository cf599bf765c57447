// JUnit XML so CI systems (GitLab, Jenkins, GitHub test reporters) show the lab's results as tests: one test case
// per scenario x strategy cell (stress: per strategy), one <failure> per forbidden outcome with the command that
// replays it, `time` on every test case, and the cells an interrupted run never reached as <skipped/> rather than
// absent (a CI dashboard otherwise shows a shorter run as a clean one).

import type { ForbiddenRun } from '../lib/explore/repro.js';
import type { Outcome } from '../lib/mem/crash.js';
import type { StressJson } from './stress-json.js';
import { replayFor } from './replay.js';
import { shellWord } from '../lib/strategy/index.js';
import { knownBugOf, provenance } from './known-bugs.js';
import { stressFailureLike } from './tables.js';

export interface JunitCell {
  scenario: string; strategy: string; runs: number;
  /** A scenario or patch file's path, for the replay line (replay.ts). */
  scenarioRef?: string; strategyRef?: string; replayOptions?: string;
  outcomes: Record<string, number>;
  forbidden: ForbiddenRun[];
  /** Wall time of the cell, when known. */
  ms?: number;
  /** The command line that replays a failure, from its schedule (default: repro of the scenario). */
  replay?: (f: ForbiddenRun) => string;
  /** The failure's word for what it was (default: forbidden for the strategy). */
  known?: (f: ForbiddenRun) => string | undefined;
}

/** A cell the run was to cover and never reached (interrupted): a <skipped/> test case. */
export interface JunitSkip { scenario: string; strategy: string; reason: string }

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c)
  // XML 1.0 forbids most control characters even escaped.
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const secs = (ms: number | undefined): string => ((ms ?? 0) / 1000).toFixed(3);

function testcase(suite: string, c: JunitCell): string {
  const counts = Object.entries(c.outcomes).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const failures = c.forbidden.map((f) => {
    const known = c.known?.(f);
    const msg = `${f.outcome} (forbidden for ${c.strategy}${known ? `; ${known}` : ''}) in ${f.count} of ${c.runs} runs`;
    const replay = c.replay ? c.replay(f) : replayFor(c, f.schedule);
    const body = [`${f.run >= 0 ? `first in run ${f.run}` : 'reachable'}${f.vcpu ? ` on ${f.vcpu}` : ''}${f.where ? ` in ${f.where}` : ''}: ${f.message}`,
      ...(f.schedule ? [`schedule: ${f.schedule}`] : []), `replay: ${replay}`].join('\n');
    return `      <failure type="${esc(f.outcome)}" message="${esc(msg)}">${esc(body)}</failure>\n`;
  }).join('');
  return `    <testcase classname="${esc(`vpci-lab.${suite}.${c.scenario}`)}" name="${esc(c.strategy)}" time="${secs(c.ms)}">\n${failures}`
    + `      <system-out>${esc(`${c.runs} runs: ${counts}`)}</system-out>\n    </testcase>\n`;
}

const skipped = (suite: string, s: JunitSkip): string =>
  `    <testcase classname="${esc(`vpci-lab.${suite}.${s.scenario}`)}" name="${esc(s.strategy)}" time="0.000">\n      <skipped message="${esc(s.reason)}"/>\n    </testcase>\n`;

export function junitXml(suite: string, cells: JunitCell[], skips: JunitSkip[] = []): string {
  const failures = cells.filter((c) => c.forbidden.length > 0).length;
  const bySuite = new Map<string, { cells: JunitCell[]; skips: JunitSkip[] }>();
  const of = (scenario: string): { cells: JunitCell[]; skips: JunitSkip[] } => {
    let g = bySuite.get(scenario);
    if (!g) { g = { cells: [], skips: [] }; bySuite.set(scenario, g); }
    return g;
  };
  for (const c of cells) of(c.scenario).cells.push(c);
  for (const s of skips) of(s.scenario).skips.push(s);
  const total = (xs: JunitCell[]): string => secs(xs.reduce((t, c) => t + (c.ms ?? 0), 0));
  const suites = [...bySuite].map(([scenario, g]) => {
    const f = g.cells.filter((c) => c.forbidden.length > 0).length;
    return `  <testsuite name="${esc(`${suite}.${scenario}`)}" tests="${g.cells.length + g.skips.length}" failures="${f}" errors="0" skipped="${g.skips.length}" time="${total(g.cells)}">\n`
      + `${g.cells.map((c) => testcase(suite, c)).join('')}${g.skips.map((s) => skipped(suite, s)).join('')}  </testsuite>\n`;
  }).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="vpci-lab ${esc(suite)}" tests="${cells.length + skips.length}" failures="${failures}" errors="0" skipped="${skips.length}" time="${total(cells)}">\n${suites}</testsuites>\n`;
}

/** The cells of scenarios x strategies that `done` lacks: what an interrupted run never reached. */
export function unfinished(scenarios: string[], strategies: string[], done: Array<{ scenario: string; strategy: string }>, reason: string): JunitSkip[] {
  const have = new Set(done.map((c) => `${c.scenario}\u0000${c.strategy}`));
  return scenarios.flatMap((scenario) => strategies.filter((strategy) => !have.has(`${scenario}\u0000${strategy}`)).map((strategy) => ({ scenario, strategy, reason })));
}

/**
 * stress as JUnit: one test case per strategy; each outcome a strategy must never have (a hypervisor crash, a
 * stale mapping, a deadlock or a hang) is a failure with its first trial and the command that runs it again.
 */
export function stressJunitCells(j: StressJson, isBad: (o: Outcome) => boolean): JunitCell[] {
  return j.results.map((t) => ({
    scenario: 'campaign', strategy: t.strategy, runs: t.trials, outcomes: t.outcomes, ms: t.durationMs,
    forbidden: t.firstFailures.filter((f) => isBad(f.outcome)).map((f) => ({ outcome: f.outcome, count: t.outcomes[f.outcome], run: f.trial, where: f.where, vcpu: f.vcpu, message: f.message, schedule: '' })),
    replay: (f: ForbiddenRun) => stressReplay(j, t, f.run),
    known: (f: ForbiddenRun) => {
      const ff = t.firstFailures.find((x) => x.outcome === f.outcome);
      return ff && knownBugOf(t.strategy, stressFailureLike(ff)) ? provenance(t.strategy, stressFailureLike(ff)) : undefined;
    },
  }));
}

/**
 * How a stress trial is run again, as a command line that runs as printed: the strategy by name or, for a patch
 * file, by its path; every setting that shapes the trial (machine, inject, jitter, cycles). Free-running, so the
 * same seed need not give the same interleaving: the shell comment says so.
 */
/** `t.strategyRef`: the strategy as a command line names it, ready for the shell (a quoted path, a C build's options). */
export function stressReplay(j: Pick<StressJson, 'seed' | 'shape' | 'inject' | 'jitter' | 'cycles'>, t: { strategy: string; strategyRef?: string }, trial: number): string {
  const s = j.shape as StressJson['shape'] & { vpciGuestSupport?: boolean };
  const shape = `${s.vcpus !== 2 ? ` --vcpus ${s.vcpus}` : ''}${s.domus !== 1 ? ` --domus ${s.domus}` : ''}${s.devices !== 3 ? ` --devices ${s.devices}` : ''}${s.msix ? ' --msix' : ''}${s.vpciGuestSupport ? ' --vpci-guest-support' : ''}`;
  const inject = j.inject.iommu !== 100 || j.inject.map !== 10 ? ` --inject iommu=${j.inject.iommu / 1000},map=${j.inject.map / 1000}` : '';
  const jitter = j.jitter ? ` --jitter-rate ${j.jitter.permille} --jitter-max-us ${j.jitter.maxUs}` : '';
  const cycles = j.cycles !== undefined ? ` --cycles ${j.cycles}` : '';
  return `vpci-lab stress --strategy ${t.strategyRef ?? shellWord(t.strategy)}${shape}${inject}${jitter}${cycles} --seed ${(j.seed + trial * 7919) >>> 0} --trials 1`
    + `   # trial ${trial}'s seed; free-running, so a rerun need not repeat it`;
}
