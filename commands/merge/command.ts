// vpci-lab merge: the JSON (and JSON lines) of shards, or of separate runs with the same settings, into one result
// and one report — printed and written exactly as the unsharded command would.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../cli/args.js';
import { parseCommand, outFile, flag } from '../../cli/options.js';
import { Outputs, checkOutputFile } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';
import { mergeExplore, type ExploreJson } from '../../report/explore-cells.js';
import { printExplore, writeExploreOutputs } from '../../report/explore-output.js';
import { mergeStress, type StressJson } from '../../report/stress-json.js';
import { summary } from '../../report/tables.js';
import { renderReport } from '../../report/html/html.js';
import { stressReport } from '../../report/html/from-stress.js';

const SPEC = {
  usage: 'merge FILE... [options]',
  description: `Combine the --json outputs of stress or explore shards (--shard i/n, or a job engine's index) into one result:
counts add up, lock histograms merge, the first failure of each kind is the one of the lowest run or trial number.
Shards of one explore merge into exactly the unsharded result. .jsonl files (stress --jsonl) are concatenated into
--jsonl in trial order. Exit codes as the merged command's: 1 when a forbidden outcome is in the result.`,
  positionals: { min: 1, max: 100_000, what: 'merge wants the JSON files to combine (e.g. merge shard-*.json)' },
  options: {
    json: outFile('write the merged result'),
    html: outFile('the merged HTML report (default out/<command>-merged.html)'),
    junit: outFile('JUnit XML of a merged explore'),
    jsonl: outFile('the trial lines of every .jsonl input, in (strategy, trial) order'),
    partial: flag('merge even when shards are missing or repeated (the result says so)'),
  },
};

type Part = ExploreJson | StressJson;

function read(file: string): { json?: Part; lines?: Array<Record<string, unknown>> } {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new UsageError(`merge: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  try {
    const j = JSON.parse(text) as Part;
    if (j && (j.command === 'explore' || j.command === 'stress')) return { json: j };
    throw new UsageError(`merge: ${file} is not the JSON of vpci-lab stress or explore`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  try {
    return { lines: text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>) };
  } catch {
    throw new UsageError(`merge: ${file} is neither JSON nor JSON lines`);
  }
}

/** Shards of one campaign: the same count, every index exactly once; otherwise the merge is partial. */
function checkShards(parts: Part[], partial: boolean): string | undefined {
  const sh = parts.map((p) => p.shard);
  if (sh.every((s) => !s)) return undefined;
  const n = sh.find((s) => s)!.count;
  const seen = new Array<number>(n).fill(0);
  for (const s of sh) if (s && s.count === n) seen[s.index]++;
  const problems = [
    ...(sh.some((s) => !s || s.count !== n) ? [`inputs disagree on the shard count`] : []),
    ...seen.flatMap((k, i) => (k === 0 ? [`shard ${i + 1}/${n} missing`] : k > 1 ? [`shard ${i + 1}/${n} given ${k} times`] : [])),
  ];
  if (problems.length === 0) return undefined;
  const msg = problems.join(', ');
  if (!partial) throw new UsageError(`merge: ${msg} (--partial merges anyway)`);
  return msg;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  const read1 = args.positionals.map((f) => ({ file: f, ...read(f) }));
  const parts = read1.flatMap((r) => (r.json ? [r.json] : []));
  const lines = read1.flatMap((r) => r.lines ?? []);
  const out = new Outputs();
  if (v.jsonl) {
    const order = (l: Record<string, unknown>): string => `${String(l.strategy)}\u0000${String(l.trial).padStart(12, '0')}`;
    out.write(v.jsonl, lines.sort((a, b) => (order(a) < order(b) ? -1 : 1)).map((l) => JSON.stringify(l) + '\n').join(''));
  }
  if (parts.length === 0) {
    if (!v.jsonl) throw new UsageError('merge: no JSON results among the inputs (JSON lines need --jsonl)');
    return exitCode({ writeFailures: out.failed.length });
  }
  const kinds = new Set(parts.map((p) => p.command));
  if (kinds.size > 1) throw new UsageError('merge: cannot merge stress and explore results together');
  const incomplete = checkShards(parts, v.partial);
  let merged: Part;
  try {
    merged = parts[0].command === 'explore' ? mergeExplore(parts as ExploreJson[]) : mergeStress(parts as StressJson[]);
  } catch (e) {
    throw new UsageError(`merge: ${(e as Error).message}`);
  }
  if (v.junit && merged.command !== 'explore') throw new UsageError('merge: --junit is for explore results');
  const html = v.html ?? path.join('out', `${merged.command}-merged.html`);
  if (v.html === undefined) checkOutputFile(html, '--html', true);
  process.stdout.write(`merged ${parts.length} ${merged.command} result${parts.length === 1 ? '' : 's'}${incomplete ? ` (partial: ${incomplete})` : ''}\n`);
  if (merged.command === 'explore') {
    printExplore(merged);
    writeExploreOutputs(merged, { json: v.json, html, junit: v.junit }, out);
    return exitCode({ interrupted: merged.interrupted, forbidden: merged.cells.reduce((n, c) => n + c.verdicts.forbidden, 0), writeFailures: out.failed.length });
  }
  process.stdout.write('\n' + summary(merged) + '\n');
  if (out.write(html, () => renderReport(stressReport(merged as StressJson, 'vpci-lab stress (merged)')))) process.stdout.write(`\nreport: ${html}\n`);
  if (v.json) out.write(v.json, () => JSON.stringify(merged) + '\n');
  return exitCode({ interrupted: merged.interrupted, writeFailures: out.failed.length });
}
