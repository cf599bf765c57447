// vpci-lab repro: run one race scenario under controlled scheduling until it fails, or replay a schedule.

import fs from 'node:fs';
import path from 'node:path';
import { parse, intOpt, UsageError } from '../args.js';
import { loadStrategy, STRATEGY_NAMES, PatchError } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { parseSchedule, ScheduleError, ScheduleDivergence } from '../../lib/sched/schedule.js';
import { loadScenario, scenarioModel, ScenarioError } from '../scenario.js';
import { reproduce, type ReproResult, type RunFailure } from '../repro.js';
import { renderTimeline } from '../timeline.js';
import { OUTCOMES } from '../../lib/mem/crash.js';

const HELP = `usage: vpci-lab repro SCENARIO|PATH --strategy NAME [options]

Run a race scenario under controlled scheduling (one real thread runs at a time, a chooser picks who runs next at
every yield point) until it fails or N runs are done; print the outcome, the schedule string that replays it, the
interleaving, and write an HTML timeline.

  --strategy NAME     locking strategy (${STRATEGY_NAMES.join(', ')})
  --runs N            controlled runs (default 200)
  --chooser C         pct (default) or random
  --pct-depth D       PCT bug depth: D-1 priority change points (default 3)
  --seed N            first run's seed (default 1)
  --schedule STRING   replay this schedule once (from an earlier run's output)
  --json FILE         write { scenario, strategy, runs, outcomes, firstFailure }
  --html FILE         timeline of the first failure (default out/repro-<scenario>-<strategy>.html)
  --events N          interleaving lines to print (default 80, 0 = all)`;

export function failureJson(f: RunFailure | null): unknown {
  return f && { run: f.run, outcome: f.outcome, verdict: f.verdict, where: f.where, vcpu: f.vcpu, message: f.message, schedule: f.schedule };
}

export function replayCommand(scenario: string, strategy: string, schedule: string): string {
  return `vpci-lab repro ${scenario} --strategy ${strategy} --schedule ${schedule}`;
}

export function writeTimeline(file: string, r: ReproResult, f: RunFailure, ref: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, renderTimeline({
    title: `${r.scenario} under ${r.strategy} (run ${f.run})`, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule,
    replayCommand: replayCommand(ref, r.strategy, f.schedule), cpuNames: f.cpuNames, lockClasses: f.lockClasses, events: f.events,
    crash: f.crashCpu !== undefined ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  }));
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    strategy: { type: 'string' }, runs: { type: 'string' }, chooser: { type: 'string' }, 'pct-depth': { type: 'string' },
    seed: { type: 'string' }, schedule: { type: 'string' }, json: { type: 'string' }, html: { type: 'string' },
    events: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  }, true);
  if (v.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length !== 1) throw new UsageError('repro wants exactly one scenario name or path (see vpci-lab list)');
  const ref = positionals[0];
  const strategyArg = v.strategy as string | undefined;
  if (!strategyArg) throw new UsageError(`repro needs --strategy (one of ${STRATEGY_NAMES.join(', ')})`);
  let strategy: string;
  try { strategy = (await loadStrategy(strategyArg)).name; } catch (e) { if (e instanceof PatchError) throw new UsageError(e.message); throw e; }
  const chooser = (v.chooser as string | undefined) ?? 'pct';
  if (chooser !== 'pct' && chooser !== 'random') throw new UsageError(`--chooser must be pct or random, got '${chooser}'`);
  const runs = intOpt(v.runs, 'runs', 200, 1, 1_000_000);
  const pctDepth = intOpt(v['pct-depth'], 'pct-depth', 3, 1, 16);
  const seed = intOpt(v.seed, 'seed', 1, 0, 2 ** 31 - 1);
  const maxEvents = intOpt(v.events, 'events', 80, 0);
  const schedule = v.schedule as string | undefined;
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
  const pool = createPool(Object.keys(scenario.actors).length);
  let r: ReproResult;
  try {
    r = await reproduce(pool, url, scenario, strategy, { runs, chooser, pctDepth, seed, schedule });
  } catch (e) {
    if (e instanceof ScheduleError) throw new UsageError(e.message);
    if (e instanceof ScheduleDivergence) { process.stderr.write(`vpci-lab: ${e.message}\n`); return 1; }
    throw e;
  } finally {
    await pool.close().catch(() => {});
  }

  const counts = OUTCOMES.filter((o) => r.outcomes[o] > 0).map((o) => `${o} ${r.outcomes[o]}`).join(', ');
  process.stdout.write(`${scenario.name} under ${strategy}: ${r.runs} run${r.runs === 1 ? '' : 's'} (${schedule ? 'replay' : `${chooser}${chooser === 'pct' ? ` depth ${pctDepth}` : ''}, seed ${seed}`}): ${counts}\n`);
  const f = r.firstFailure;
  if (!f) {
    process.stdout.write(`no failure in ${r.runs} runs; last schedule: ${r.lastSchedule ?? '-'}\n`);
  } else {
    process.stdout.write(`${schedule ? 'replayed run' : `run ${f.run}`}: ${f.outcome} (${f.verdict} for ${strategy})${f.vcpu ? ` on ${f.vcpu}` : ''}${f.where ? ` in ${f.where}` : ''}\n`);
    if (f.message) process.stdout.write(`  ${f.message}\n`);
    process.stdout.write(`schedule: ${f.schedule}\nreplay:   ${replayCommand(ref, strategy, f.schedule)}\n\ninterleaving:\n`);
    const shown = maxEvents === 0 ? f.events : f.events.slice(-maxEvents);
    if (shown.length < f.events.length) process.stdout.write(`  ... ${f.events.length - shown.length} earlier events (see the timeline)\n`);
    shown.forEach((e, i) => process.stdout.write(`  ${String(f.events.length - shown.length + i).padStart(4)}  ${e.label}\n`));
    const html = (v.html as string | undefined) ?? path.join('out', `repro-${scenario.name}-${strategy}.html`);
    writeTimeline(html, r, f, ref);
    process.stdout.write(`timeline: ${html}\n`);
  }
  if (v.json) fs.writeFileSync(v.json as string, JSON.stringify({ scenario: r.scenario, strategy, runs: r.runs, outcomes: r.outcomes, firstFailure: failureJson(f) }, null, 2) + '\n');
  return 0;
}
