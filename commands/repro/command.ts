// vpci-lab repro: run one race scenario under controlled scheduling until it fails, or replay a schedule.

import path from 'node:path';
import { UsageError } from '../../cli/args.js';
import { parseCommand, string, int, outFile } from '../../cli/options.js';
import { controlledOptions, backendOptions } from '../../cli/common-options.js';
import { resolveBackend, judgeAs, cReplay, cReplayOptions, defaultJudge } from '../../cli/backend.js';
import { Outputs, checkOutputFile, defaultOut, distinctOutputs } from '../../cli/output.js';
import { junitXml } from '../../report/junit.js';
import { exitCode } from '../../cli/exit.js';
import { loadStrategy, STRATEGY_NAMES, PatchError } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { parseSchedule, ScheduleError, ScheduleDivergence } from '../../lib/sched/schedule.js';
import { loadScenario, scenarioModel, ScenarioError } from '../../lib/scenario/scenario.js';
import { reproduce, type ReproResult, type RunFailure } from '../../lib/explore/repro.js';
import { failureJson, replayFor, timelineHtml } from '../../report/replay.js';
import { OUTCOMES } from '../../lib/mem/crash.js';
import { knownBugOf, provenance, knownLegend } from '../../report/known-bugs.js';

const SPEC = {
  usage: 'repro SCENARIO|PATH --strategy NAME [options]',
  description: `Run a race scenario under controlled scheduling (one real thread runs at a time, a chooser picks who runs next at
every yield point) until it fails or N runs are done; print the outcome, the schedule string that replays it, the
interleaving, and write an HTML timeline. Exit 1 when a run ended in an outcome the scenario forbids for the
strategy (a surprise), 0 otherwise, 2 for bad input.`,
  positionals: { min: 1, max: 1, what: 'repro wants exactly one scenario name or path (see vpci-lab list)' },
  options: {
    strategy: string(`locking strategy (${STRATEGY_NAMES.join(', ')}) or a patch file`, { arg: 'NAME|FILE' }),
    ...controlledOptions(200),
    ...backendOptions,
    schedule: string('replay this schedule once (from an earlier run\'s output)', { arg: 'STRING' }),
    events: int('interleaving lines to print, 0 = all', { default: 80 }),
    json: outFile('write { scenario, strategy, runs, outcomes, verdicts, tally, firstFailure, surprise } (tally: runs by outcome, crash site and verdict; failures with their full flight records)'),
    html: outFile('timeline of the first failure (default out/repro-<scenario>-<strategy>-<date-time>-<pid>.html)'),
    junit: outFile('write JUnit XML: one test case, a failure per forbidden outcome'),
  },
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const { values: v, positionals: [ref] } = args;
  const c = await resolveBackend(v);
  if (!v.strategy && !c) throw new UsageError(`repro needs --strategy (one of ${STRATEGY_NAMES.join(', ')})`);
  const as = v.strategy ?? (c ? defaultJudge(c) : 'baseline');
  let strategy: string;
  try { strategy = c ? c.strategy.name : (await loadStrategy(as)).name; } catch (e) { if (e instanceof PatchError) throw new UsageError(e.message); throw e; }
  const { chooser, runs, seed, schedule } = v;
  const pctDepth = v['pct-depth'];
  let loaded;
  try {
    if (schedule !== undefined) parseSchedule(schedule);
    loaded = await loadScenario(ref);
    scenarioModel(loaded.scenario, strategy);
  } catch (e) {
    if (e instanceof ScheduleError || e instanceof ScenarioError) throw new UsageError(e.message);
    throw e;
  }
  const { url, scenario } = loaded;
  if (c) judgeAs(scenario, strategy, as);
  const html = v.html ?? defaultOut(`repro-${scenario.name}-${strategy}`);
  if (v.html === undefined) checkOutputFile(html, '--html', true);
  distinctOutputs([['--html', html], ['--json', v.json], ['--junit', v.junit]]);
  const pool = createPool(Object.keys(scenario.actors).length);
  let r: ReproResult;
  try {
    r = await reproduce(pool, url, scenario, strategy, { runs, chooser, pctDepth, seed, schedule });
  } catch (e) {
    if (e instanceof ScheduleError || e instanceof ScenarioError) throw new UsageError(e.message);
    // A schedule that does not fit this scenario, strategy or lab version is bad input, not a forbidden outcome.
    if (e instanceof ScheduleDivergence) throw new UsageError(e.message.split('\n')[0]);
    throw e;
  } finally {
    await pool.close().catch(() => {});
  }
  if (c) Object.assign(r, { strategyRef: as, replayOptions: cReplayOptions(v) });   // the timeline's and JUnit's replay lines
  const replay = (sched: string): string => (c ? cReplay(ref, v, as, sched) : replayFor(r, sched));
  printResult(r, { schedule, chooser, pctDepth, seed, maxEvents: v.events, guestVpci: scenario.machine?.vpciGuestSupport === true, replay });
  const out = new Outputs();
  const f = r.firstFailure;
  if (f && out.write(html, () => timelineHtml(r, f))) process.stdout.write(`timeline: ${html}\n`);
  if (v.json) out.write(v.json, JSON.stringify({ scenario: r.scenario, strategy, rule: r.rule, runs: r.runs, outcomes: r.outcomes, verdicts: r.verdicts, tally: r.tally, firstFailure: failureJson(f, true), surprise: failureJson(r.surprise, true) }, null, 2) + '\n');
  if (v.junit) out.write(v.junit, junitXml('repro', [r]));
  return exitCode({ forbidden: r.verdicts.forbidden, writeFailures: out.failed.length });
}

function printResult(r: ReproResult, o: { schedule?: string; chooser: string; pctDepth: number; seed: number; maxEvents: number; guestVpci?: boolean; replay: (schedule: string) => string }): void {
  const counts = OUTCOMES.filter((k) => r.outcomes[k] > 0).map((k) => `${k} ${r.outcomes[k]}`).join(', ');
  const how = o.schedule ? 'replay' : `${o.chooser}${o.chooser === 'pct' ? ` depth ${o.pctDepth}` : ''}, seed ${o.seed}`;
  process.stdout.write(`${r.scenario} under ${r.strategy}: ${r.runs} run${r.runs === 1 ? '' : 's'} (${how}): ${counts}\n`);
  process.stdout.write(`judged by: ${r.rule}\n`);
  if (o.guestVpci) process.stdout.write('DomU vPCI: on (vpciGuestSupport: the v4/v5 series\' CONFIG_HAS_VPCI_GUEST_SUPPORT; Xen gives DomUs none)\n');
  // Crashes by site: the verdict depends on where (a site-qualified expectation), so say it per site.
  for (const t of r.tally.filter((x) => x.where)) process.stdout.write(`  ${t.outcome} in ${t.where}: ${t.count} (${t.verdict})\n`);
  const f = r.firstFailure;
  if (!f) { process.stdout.write(`no failure in ${r.runs} runs; last schedule: ${r.lastSchedule ?? '-'}\n`); return; }
  process.stdout.write(`${o.schedule ? 'replayed run' : `run ${f.run}`}: ${f.outcome} (${f.verdict} for ${r.strategy})${f.vcpu ? ` on ${f.vcpu}` : ''}${f.where ? ` in ${f.where}` : ''}: ${provenance(r.strategy, f)}\n`);
  const k = knownBugOf(r.strategy, f);
  if (k) process.stdout.write(`  ${knownLegend([k])[0]}\n`);
  if (f.message) process.stdout.write(`  ${f.message}\n`);
  process.stdout.write(`schedule: ${f.schedule}\nreplay:   ${o.replay(f.schedule)}\n`);
  if (o.schedule && parseSchedule(o.schedule).digest === undefined) {
    process.stdout.write('note: an S1 schedule carries no model seed or site digest, so this replay could not check that it ran the interleaving recorded; the S2 string above can be\n');
  }
  process.stdout.write('\ninterleaving:\n');
  const shown = o.maxEvents === 0 ? f.events : f.events.slice(-o.maxEvents);
  if (shown.length < f.events.length) process.stdout.write(`  ... ${f.events.length - shown.length} earlier events (see the timeline)\n`);
  shown.forEach((e, i) => process.stdout.write(`  ${String(f.events.length - shown.length + i).padStart(4)}  ${e.label}\n`));
  if (r.surprise && r.surprise !== f) process.stdout.write(`surprise: ${r.surprise.outcome} in run ${r.surprise.run}: ${o.replay(r.surprise.schedule)}\n`);
}
