// What explore (and merge of explore shards) prints and writes, from the result as data (stress/explore-cells.ts).

import path from 'node:path';
import { knownBugOf, provenance, knownLegend } from './known-bugs.js';
import { table } from './tables.js';
import { MARK, matrixText, missingRuns, type ExploreCell, type ExploreJson, type FailureRecord } from './explore-cells.js';
import { renderTimeline } from './timeline.js';
import { junitXml, unfinished } from './junit.js';
import { replayFor } from './replay.js';
import type { Outputs } from '../cli/output.js';
import { renderReport } from './html/html.js';
import { exploreReport, failureTimeline } from './html/from-explore.js';

export function printExplore(j: ExploreJson): void {
  const w = (s: string): boolean => process.stdout.write(s);
  const shard = j.shard ? ` (shard ${j.shard.index + 1}/${j.shard.count}: runs k with k mod ${j.shard.count} = ${j.shard.index})` : '';
  w(`\n${j.runs} controlled runs per cell${shard} (${j.chooser}${j.chooser === 'pct' ? ` depth ${j.pctDepth}` : ''}, seed ${j.seed}); + expected, ~ acceptable, ! surprise\n\n`);
  w(matrixText(j) + '\n');
  // A patch file is judged by a rule the matrix does not show (its own expect, or as a fix): say which, per cell.
  const patched = j.cells.filter((c) => c.strategyRef && c.rule);
  if (patched.length) {
    w('\njudged by (patch files):\n');
    for (const c of patched) w(`  ${c.scenario} / ${c.strategy}: ${c.rule}\n`);
  }
  const surprises = j.cells.filter((c) => c.surprise);
  if (surprises.length) {
    w('\nsurprises (replay to see them):\n');
    for (const c of surprises) w(`  ${c.scenario} / ${c.strategy}: ${c.surprise!.outcome} in ${c.surprise!.where} (${provenance(c.strategy, c.surprise!)})\n    ${replayFor(c, c.surprise!.schedule)}\n`);
  }
  w('\nfirst failing schedule per cell (known bug of the generation, or a finding):\n');
  const rows = j.cells.filter((c) => c.firstFailure).map((c) => ['', `${c.scenario} / ${c.strategy}:`, `${c.firstFailure!.outcome}${MARK[c.firstFailure!.verdict]}`, `run ${c.firstFailure!.run}`, c.firstFailure!.schedule, provenance(c.strategy, c.firstFailure!)]);
  if (rows.length) w(table(rows, rows[0].map(() => 'l' as const)) + '\n');
  const legend = knownLegend([...j.cells.map((c) => (c.firstFailure ? knownBugOf(c.strategy, c.firstFailure) : undefined)), ...surprises.map((c) => knownBugOf(c.strategy, c.surprise!))]);
  if (legend.length) w(`known bugs of the generations (not findings of the lab):\n${legend.map((l) => `  ${l}\n`).join('')}`);
  const missing = missingRuns(j);
  if (!j.shard && missing.length) w(`\nincomplete: ${missing.length} cells ran fewer than ${j.runs} runs\n`);
}

function timelinePage(c: ExploreCell, f: FailureRecord): string {
  const replay = replayFor(c, f.schedule);
  return renderTimeline({ ...failureTimeline(`${c.scenario} under ${c.strategy} (run ${f.run})`, replay, f), events: f.events });
}

export interface ExplorePaths { json?: string; html?: string; htmlDir?: string; junit?: string }

export function writeExploreOutputs(j: ExploreJson, p: ExplorePaths, out: Outputs): void {
  if (p.htmlDir) {
    let n = 0;
    for (const c of j.cells) if (c.firstFailure && out.write(path.join(p.htmlDir, `${c.scenario}-${c.strategy}.html`), timelinePage(c, c.firstFailure))) n++;
    process.stdout.write(`${n} timelines in ${p.htmlDir}\n`);
  }
  if (p.html && out.write(p.html, () => renderReport(exploreReport(j)))) process.stdout.write(`report: ${p.html}\n`);
  if (p.json) out.write(p.json, () => JSON.stringify(j) + '\n');
  const known = (c: ExploreJson['cells'][number]) => (f: { outcome: FailureRecord['outcome']; where: string }): string | undefined => {
    const rec = [c.surprise, c.firstFailure].find((x) => x && x.outcome === f.outcome && x.where === f.where);
    const k = knownBugOf(c.strategy, rec ?? f);
    return k && provenance(c.strategy, rec ?? f);
  };
  if (p.junit) out.write(p.junit, () => junitXml('explore', j.cells.map((c) => ({ ...c, known: known(c) })), j.interrupted ? unfinished(j.scenarios, j.strategies, j.cells, 'not run: the run was interrupted') : []));
}
