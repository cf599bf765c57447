// vpci-lab explore: every scenario under every strategy, N controlled runs each — the lab's answer to the seed's
// question of which strategy fixes which crash path.

import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { parse, intOpt, UsageError } from '../args.js';
import { parseStrategies } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { OUTCOMES } from '../../lib/mem/crash.js';
import { BUILTIN_SCENARIOS, loadScenario, ScenarioError, type Scenario } from '../scenario.js';
import { reproduce, type ReproResult } from '../repro.js';
import { failureJson, replayCommand, writeTimeline } from './repro.js';
import { table } from '../report.js';

const HELP = `usage: vpci-lab explore [options]

Run every scenario under every strategy with controlled scheduling and print the matrix of outcomes: each cell
shows what happened and whether it was expected (+), acceptable (~) or a surprise (!) for that strategy.

  --scenarios LIST    names or paths, comma-separated (default all built-in)
  --strategies LIST   comma-separated or all (default all)
  --runs N            controlled runs per cell (default 50)
  --chooser C         pct (default) or random
  --pct-depth D       PCT depth (default 3)
  --seed N            seed (default 1)
  --json FILE         write the matrix as JSON
  --html-dir DIR      write a timeline for every cell that failed (default: none)`;

const MARK = { expected: '+', acceptable: '~', forbidden: '!' } as const;

function cell(r: ReproResult, s: Scenario): string {
  const parts = OUTCOMES.filter((o) => r.outcomes[o] > 0).sort((a, b) => r.outcomes[b] - r.outcomes[a])
    .map((o) => {
      const e = s.expect[r.strategy] ?? s.expect['*'] ?? {};
      const v = e.expected?.includes(o) ? 'expected' : e.acceptable?.includes(o) ? 'acceptable' : 'forbidden';
      return `${o}${MARK[v]}${r.outcomes[o] === r.runs ? '' : ` ${r.outcomes[o]}`}`;
    });
  return parts.join(' ');
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, {
    scenarios: { type: 'string' }, strategies: { type: 'string' }, runs: { type: 'string' }, chooser: { type: 'string' },
    'pct-depth': { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, 'html-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { process.stdout.write(HELP + '\n'); return 0; }
  let strategies;
  try { strategies = await parseStrategies((v.strategies as string | undefined) ?? 'all'); } catch (e) { throw new UsageError((e as Error).message); }
  const chooser = (v.chooser as string | undefined) ?? 'pct';
  if (chooser !== 'pct' && chooser !== 'random') throw new UsageError(`--chooser must be pct or random, got '${chooser}'`);
  const runs = intOpt(v.runs, 'runs', 50, 1, 1_000_000);
  const pctDepth = intOpt(v['pct-depth'], 'pct-depth', 3, 1, 16);
  const seed = intOpt(v.seed, 'seed', 1, 0, 2 ** 31 - 1);
  const refs = ((v.scenarios as string | undefined) ?? BUILTIN_SCENARIOS.join(',')).split(',').map((x) => x.trim()).filter(Boolean);
  const loaded: Array<{ ref: string; url: string; scenario: Scenario }> = [];
  for (const ref of refs) {
    try { loaded.push({ ref, ...(await loadScenario(ref)) }); } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(e.message);
      throw e;
    }
  }
  const pool = createPool(Math.max(...loaded.map((l) => Object.keys(l.scenario.actors).length)));
  const results: ReproResult[][] = [];
  const t0 = performance.now();
  let interrupted = false;
  const onSigint = (): void => { interrupted = true; process.stderr.write('\ninterrupted: printing what was explored\n'); };
  process.on('SIGINT', onSigint);
  try {
    for (const l of loaded) {
      const row: ReproResult[] = [];
      for (const s of strategies) {
        if (interrupted) break;
        row.push(await reproduce(pool, l.url, l.scenario, s.name, { runs, chooser, pctDepth, seed, all: true }));
      }
      results.push(row);
      if (!process.stdout.isTTY) process.stdout.write(`[explore] ${l.scenario.name}: done (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      if (interrupted) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await pool.close().catch(() => {});
  }
  const names = strategies.map((s) => s.name);
  const rows = [['scenario', ...names]];
  results.forEach((row, i) => rows.push([loaded[i].scenario.name, ...row.map((r) => cell(r, loaded[i].scenario))]));
  process.stdout.write(`\n${runs} controlled runs per cell (${chooser}${chooser === 'pct' ? ` depth ${pctDepth}` : ''}, seed ${seed}); + expected, ~ acceptable, ! surprise\n\n`);
  process.stdout.write(table(rows, ['l', ...names.map(() => 'l' as const)]) + '\n');
  const surprises = results.flat().filter((r) => r.surprise);
  if (surprises.length) {
    process.stdout.write('\nsurprises (replay to see them):\n');
    for (const r of surprises) process.stdout.write(`  ${r.scenario} / ${r.strategy}: ${r.surprise!.outcome} in ${r.surprise!.where}\n    ${replayCommand(r.scenario, r.strategy, r.surprise!.schedule)}\n`);
  }
  process.stdout.write('\nfirst failing schedule per cell:\n');
  for (const r of results.flat()) if (r.firstFailure) process.stdout.write(`  ${r.scenario} / ${r.strategy}: ${r.firstFailure.outcome} (run ${r.firstFailure.run}) ${r.firstFailure.schedule}\n`);
  const htmlDir = v['html-dir'] as string | undefined;
  if (htmlDir) {
    for (const r of results.flat()) if (r.firstFailure) writeTimeline(path.join(htmlDir, `${r.scenario}-${r.strategy}.html`), r, r.firstFailure, r.scenario);
    process.stdout.write(`timelines in ${htmlDir}\n`);
  }
  if (v.json) {
    fs.writeFileSync(v.json as string, JSON.stringify({
      command: 'explore', cores: os.availableParallelism(), runs, chooser, pctDepth, seed, interrupted, strategies: names,
      cells: results.flat().map((r) => ({ scenario: r.scenario, strategy: r.strategy, runs: r.runs, outcomes: r.outcomes, verdicts: r.verdicts, firstFailure: failureJson(r.firstFailure), surprise: failureJson(r.surprise) })),
    }, null, 2) + '\n');
  }
  return interrupted ? 130 : 0;
}
