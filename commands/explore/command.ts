// vpci-lab explore: every scenario under every strategy, N controlled runs each — the lab's answer to the seed's
// question of which strategy fixes which crash path.

import os from 'node:os';
import path from 'node:path';
import { UsageError, nameList } from '../../cli/args.js';
import { parseCommand, string, outFile, outDir } from '../../cli/options.js';
import { controlledOptions, shardOptions, shardOf, backendOptions } from '../../cli/common-options.js';
import { parseStrategies } from '../../lib/strategy/index.js';
import { resolveBackend, judgeAs, defaultJudge } from '../../cli/backend.js';
import { createPool } from '../../lib/run/index.js';
import { BUILTIN_SCENARIOS, loadScenario, ScenarioError, type Scenario } from '../../lib/scenario/scenario.js';
import { reproduce } from '../../lib/explore/repro.js';
import { cellOf, type ExploreCell, type ExploreJson } from '../../report/explore-cells.js';
import { shardLabel } from '../../cli/shard.js';
import { Outputs, defaultOut, defaultOutText } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';
import { onStop } from '../../cli/signals.js';
import { printExplore, writeExploreOutputs } from '../../report/explore-output.js';

const SPEC = {
  usage: 'explore [options]',
  description: `Run every scenario under every strategy with controlled scheduling and print the matrix of outcomes: each cell
shows what happened and whether it was expected (+), acceptable (~) or a surprise (!) for that strategy.
Exit 1 when any cell saw a surprise, 0 otherwise, 2 for bad input.`,
  options: {
    scenarios: string('names or paths, comma-separated (default all built-in)', { arg: 'LIST' }),
    strategies: string('comma-separated or all', { default: 'all', arg: 'LIST' }),
    ...controlledOptions(50),
    ...shardOptions,
    ...backendOptions,
    json: outFile('write the matrix as JSON (every cell, its first failure and surprise with full flight records)'),
    html: outFile('one self-contained HTML report: the matrix coloured by verdict, every first failure with its timeline', { default: defaultOut('explore'), defaultText: defaultOutText('explore') }),
    'html-dir': outDir('also write one timeline file per cell that failed'),
    junit: outFile('write JUnit XML: a test case per scenario x strategy, a failure per forbidden outcome'),
  },
};

/** A trial the lab could not run, not one the user's own file stopped (cli/exit.ts failureExit: that is bad input). */
const isLabError = (e: unknown): boolean => (e as Error | undefined)?.name === 'TrialError' && !(e as { threads: Array<{ fault?: string }> }).threads.some((t) => t.fault);

async function loadAll(list: string | undefined): Promise<Array<{ url: string; scenario: Scenario }>> {
  const refs = list === undefined ? [...BUILTIN_SCENARIOS] : nameList(list, '--scenarios');
  const out = [];
  for (const ref of refs) {
    try { out.push(await loadScenario(ref)); } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(e.message);
      throw e;
    }
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  const c = await resolveBackend(v);
  let strategies;
  try { strategies = c ? [c.strategy] : await parseStrategies(v.strategies); } catch (e) { throw new UsageError((e as Error).message); }
  const shard = shardOf(v);
  const loaded = await loadAll(v.scenarios);
  // The C build is judged as one TypeScript strategy: the one named, or the tree's unpatched generation.
  if (c) for (const l of loaded) judgeAs(l.scenario, c.strategy.name, v.strategies === 'all' ? defaultJudge(c) : v.strategies);
  const o = { runs: v.runs, chooser: v.chooser, pctDepth: v['pct-depth'], seed: v.seed, all: true, shard };
  if (shard) process.stderr.write(`[explore] ${shardLabel(shard)}: runs k with k mod ${shard.count} = ${shard.index}\n`);
  const pool = createPool(Math.max(...loaded.map((l) => Object.keys(l.scenario.actors).length)));
  const cells: ExploreCell[] = [];
  const t0 = performance.now();
  let interrupted = false, labError = false;
  const offStop = onStop((sig) => { interrupted = true; process.stderr.write(`\n${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}: printing what was explored\n`); });
  try {
    for (const l of loaded) {
      for (const s of strategies) {
        if (interrupted) break;
        const c0 = performance.now();
        try { cells.push({ ...cellOf(await reproduce(pool, l.url, l.scenario, s.name, o)), ms: Math.round(performance.now() - c0) }); } catch (e) {
          if (e instanceof ScenarioError) throw new UsageError(e.message);   // an actor's own bug
          if (!isLabError(e)) throw e;
          // The pool could not run a trial (a CPU that never started): the campaign stops there, but the cells it
          // explored are printed and written like an interrupted run's (a shard's JSON went missing with them).
          process.stderr.write(`vpci-lab: lab error in ${l.scenario.name} / ${s.name}: ${(e as Error).message.split('\n')[0]}; reporting what was explored\n`);
          interrupted = labError = true;
          break;
        }
      }
      if (!process.stdout.isTTY) process.stdout.write(`[explore] ${l.scenario.name}: done (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      if (interrupted) break;
    }
  } finally {
    offStop();
    await pool.close().catch(() => {});
  }
  const result: ExploreJson = {
    command: 'explore', cores: os.availableParallelism(), runs: v.runs, chooser: v.chooser, pctDepth: v['pct-depth'], seed: v.seed, interrupted,
    strategies: strategies.map((s) => s.name), scenarios: loaded.map((l) => l.scenario.name),
    descriptions: Object.fromEntries(loaded.map((l) => [l.scenario.name, l.scenario.description ?? ''])),
    ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}), cells,
  };
  printExplore(result);
  const out = new Outputs();
  writeExploreOutputs(result, { json: v.json, html: v.html, htmlDir: v['html-dir'], junit: v.junit }, out);
  if (labError) return 1;
  return exitCode({ interrupted, forbidden: cells.reduce((n, c) => n + c.verdicts.forbidden, 0), writeFailures: out.failed.length });
}
