// What explore (and merge of explore shards) prints and writes, from the result as data (stress/explore-cells.ts).

import path from 'node:path';
import { matrixText, missingRuns, type ExploreJson, type FailureRecord } from './explore-cells.js';
import { renderTimeline } from './timeline.js';
import { junitXml } from './junit.js';
import { replayCommand } from './commands/repro.js';
import type { Outputs } from './output.js';

export function printExplore(j: ExploreJson): void {
  const w = (s: string): boolean => process.stdout.write(s);
  const shard = j.shard ? ` (shard ${j.shard.index + 1}/${j.shard.count}: runs k with k mod ${j.shard.count} = ${j.shard.index})` : '';
  w(`\n${j.runs} controlled runs per cell${shard} (${j.chooser}${j.chooser === 'pct' ? ` depth ${j.pctDepth}` : ''}, seed ${j.seed}); + expected, ~ acceptable, ! surprise\n\n`);
  w(matrixText(j) + '\n');
  const surprises = j.cells.filter((c) => c.surprise);
  if (surprises.length) {
    w('\nsurprises (replay to see them):\n');
    for (const c of surprises) w(`  ${c.scenario} / ${c.strategy}: ${c.surprise!.outcome} in ${c.surprise!.where}\n    ${replayCommand(c.scenario, c.strategy, c.surprise!.schedule)}\n`);
  }
  w('\nfirst failing schedule per cell:\n');
  for (const c of j.cells) if (c.firstFailure) w(`  ${c.scenario} / ${c.strategy}: ${c.firstFailure.outcome} (run ${c.firstFailure.run}) ${c.firstFailure.schedule}\n`);
  const missing = missingRuns(j);
  if (!j.shard && missing.length) w(`\nincomplete: ${missing.length} cells ran fewer than ${j.runs} runs\n`);
}

export function failureTimeline(scenario: string, strategy: string, f: FailureRecord): string {
  return renderTimeline({
    title: `${scenario} under ${strategy} (run ${f.run})`, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule,
    replayCommand: replayCommand(scenario, strategy, f.schedule), cpuNames: f.cpuNames, lockClasses: f.lockClasses, events: f.events,
    crash: f.crashCpu !== undefined && f.crashCpu !== null ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  });
}

export interface ExplorePaths { json?: string; html?: string; htmlDir?: string; junit?: string }

export function writeExploreOutputs(j: ExploreJson, p: ExplorePaths, out: Outputs): void {
  if (p.htmlDir) {
    let n = 0;
    for (const c of j.cells) if (c.firstFailure && out.write(path.join(p.htmlDir, `${c.scenario}-${c.strategy}.html`), failureTimeline(c.scenario, c.strategy, c.firstFailure))) n++;
    process.stdout.write(`${n} timelines in ${p.htmlDir}\n`);
  }
  if (p.json) out.write(p.json, () => JSON.stringify(j) + '\n');
  if (p.junit) out.write(p.junit, () => junitXml('explore', j.cells));
}
