// vpci-lab merge: the JSON (and JSON lines) of shards, or of separate runs with the same settings, into one result
// and one report — printed and written exactly as the unsharded command would.

import { UsageError } from '../../cli/args.js';
import { parseCommand, outFile, flag } from '../../cli/options.js';
import { Outputs, checkOutputFile, defaultOut, distinctOutputs } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';
import { checkShards } from '../../cli/inputs.js';
import { readInputs, checkLines, stressFromLines, type Part } from './inputs.js';
import type { StressJsonlHeader } from '../../report/stress-jsonl.js';
import { mergeExplore, type ExploreJson } from '../../report/explore-cells.js';
import { printExplore, writeExploreOutputs } from '../../report/explore-output.js';
import { mergeStress, type StressJson } from '../../report/stress-json.js';
import { summary } from '../../report/tables.js';
import { renderReport } from '../../report/html/html.js';
import { stressReport, stressTone } from '../../report/html/from-stress.js';
import { junitXml, stressJunitCells } from '../../report/junit.js';

const SPEC = {
  usage: 'merge FILE... [options]',
  description: `Combine the --json outputs of stress or explore shards (--shard i/n, or a job engine's index) into one result:
counts add up, lock histograms merge, the first failure of each kind is the one of the lowest run or trial number.
Shards of one explore merge into exactly the unsharded result. .jsonl files (stress --jsonl) are concatenated into
--jsonl in trial order; a .jsonl with stress's header line and no JSON of its run (a killed run) is merged from its
trial lines. The same file or result given twice, a shard given twice, or an unsharded result among shards is
refused (exit 2): its runs would count twice. Exit codes as the merged command's: 1 when a forbidden outcome is in the result.`,
  positionals: { min: 1, max: 100_000, what: 'merge wants the JSON files to combine (e.g. merge shard-*.json)' },
  options: {
    json: outFile('write the merged result'),
    html: outFile('the merged HTML report (default out/<command>-merged-<date-time>-<pid>.html)'),
    junit: outFile('JUnit XML of the merged result'),
    jsonl: outFile('the trial lines of every .jsonl input, in (strategy, trial) order'),
    partial: flag('merge even when shards are missing (the result says so); a file, result or shard given twice is always refused'),
  },
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  const inputs = readInputs(args.positionals);
  distinctOutputs([...inputs.map((i): [string, string] => ['input', i.file]), ['--html', v.html], ['--json', v.json], ['--junit', v.junit], ['--jsonl', v.jsonl]]);
  checkLines(inputs);
  const parts: Part[] = inputs.flatMap((i) => (i.json ? [i.json] : []));
  // A killed stress run left only its lines: they stand for its result unless its JSON is here too.
  const sameRun = (h: StressJsonlHeader, p: Part): boolean => p.command === 'stress' && p.seed === h.seed && p.shard?.index === h.shard?.index && p.shard?.count === h.shard?.count;
  const fromLines = inputs.filter((i) => i.header && !parts.some((p) => sameRun(i.header!, p)));
  for (const i of fromLines) process.stderr.write(`merge: ${i.file}: no JSON for this run, its ${i.lines?.length ?? 0} trial lines stand for it (no lock statistics or flight records)\n`);
  const all = [...parts, ...fromLines.map(stressFromLines)];
  const files = [...inputs.filter((i) => i.json).map((i) => i.file), ...fromLines.map((i) => i.file)];
  const lines = inputs.flatMap((i) => i.lines ?? []);
  const out = new Outputs();
  if (v.jsonl) {
    const order = (l: Record<string, unknown>): string => `${String(l.strategy)}\u0000${String(l.trial).padStart(12, '0')}`;
    out.write(v.jsonl, lines.sort((a, b) => (order(a) < order(b) ? -1 : 1)).map((l) => JSON.stringify(l) + '\n').join(''));
  }
  if (all.length === 0) {
    if (!v.jsonl) throw new UsageError('merge: no JSON results among the inputs (JSON lines need --jsonl, or a header line: stress --jsonl writes one)');
    return exitCode({ writeFailures: out.failed.length });
  }
  const kinds = new Set(all.map((p) => p.command));
  if (kinds.size > 1) throw new UsageError('merge: cannot merge stress and explore results together');
  const incomplete = checkShards('merge', `${all[0].command} result`, all.map((p, k) => ({ file: files[k], shard: p.shard })), v.partial);
  let merged: Part;
  try {
    merged = all[0].command === 'explore' ? mergeExplore(all as ExploreJson[]) : mergeStress(all as StressJson[]);
  } catch (e) {
    throw new UsageError(`merge: ${(e as Error).message}`);
  }
  const html = v.html ?? defaultOut(`${merged.command}-merged`);
  if (v.html === undefined) checkOutputFile(html, '--html', true);
  distinctOutputs([['--html', html], ['--json', v.json], ['--junit', v.junit], ['--jsonl', v.jsonl]]);
  process.stdout.write(`merged ${all.length} ${merged.command} result${all.length === 1 ? '' : 's'}${incomplete ? ` (partial: ${incomplete})` : ''}\n`);
  if (merged.command === 'explore') {
    printExplore(merged);
    writeExploreOutputs(merged, { json: v.json, html, junit: v.junit }, out);
    return exitCode({ interrupted: merged.interrupted, forbidden: merged.cells.reduce((n, c) => n + c.verdicts.forbidden, 0), writeFailures: out.failed.length });
  }
  process.stdout.write('\n' + summary(merged) + '\n');
  if (out.write(html, () => renderReport(stressReport(merged as StressJson, 'vpci-lab stress (merged)')))) process.stdout.write(`\nreport: ${html}\n`);
  if (v.json) out.write(v.json, () => JSON.stringify(merged) + '\n');
  if (v.junit) out.write(v.junit, () => junitXml('stress', stressJunitCells(merged as StressJson, (o) => stressTone(o) === 'forbidden')));
  return exitCode({ interrupted: merged.interrupted, writeFailures: out.failed.length });
}
