// The README's result tables, made from JSON runs so they cannot drift from the code. A marked block names the
// command that wrote its JSON; rendering rewrites the block from that file, with the command shown beside it:
//
//   <!-- readme:tables explore: vpci-lab explore --runs 200 --json results/explore.json -->
//   ...rewritten...
//   <!-- /readme:tables -->
//
// Kinds: explore (the matrix), stress (the outcome table), locks (bench locks' report), verify (the verdict matrix).

import fs from 'node:fs';
import path from 'node:path';
import { matrixText, type ExploreJson } from './explore-cells.js';
import { matrix } from './tables.js';
import type { StressJson } from './stress-json.js';
import { formatReport, type BenchReport } from './locks-table.js';
import { mergeCells, matrix as verifyMatrix, verdictOf } from './verify-text.js';

export const KINDS = ['explore', 'stress', 'locks', 'verify'] as const;
export type Kind = (typeof KINDS)[number];

const BLOCK = /<!-- readme:tables (\w+): (.+?) -->\n[\s\S]*?<!-- \/readme:tables -->/g;

export interface Block { kind: Kind; command: string; json: string }

/** The file a marker's command writes its JSON to (its --json argument), relative to the README. */
export function jsonOf(command: string): string {
  const m = /(?:^|\s)--json[ =](\S+)/.exec(command);
  if (!m) throw new Error(`readme:tables: '${command}' has no --json FILE to read the table from`);
  return m[1];
}

/** Every marked block of a README, in order. */
export function blocks(readme: string): Block[] {
  return [...readme.matchAll(BLOCK)].map((m) => {
    if (!(KINDS as readonly string[]).includes(m[1])) throw new Error(`readme:tables: unknown kind '${m[1]}' (known: ${KINDS.join(', ')})`);
    return { kind: m[1] as Kind, command: m[2], json: jsonOf(m[2]) };
  });
}

const n = (x: number): string => x.toLocaleString('en-US');
const fence = (text: string): string => '```\n' + text.trimEnd() + '\n```';

function exploreBlock(cmd: string, j: ExploreJson): string {
  const runs = j.cells.reduce((s, c) => s + c.runs, 0);
  const surprises = j.cells.filter((c) => c.verdicts.forbidden > 0).length;
  return `\`${cmd}\` — ${j.runs} controlled runs per cell (${j.chooser}${j.chooser === 'pct' ? ` depth ${j.pctDepth}` : ''}, seed ${j.seed}), ` +
    `${n(runs)} runs in all, ${j.cores} cores${j.interrupted ? ', interrupted' : ''}. Each cell: outcomes with their count when ` +
    `not every run; \`+\` expected, \`~\` acceptable, \`!\` surprise (${surprises} cell${surprises === 1 ? '' : 's'} with one).\n\n` + fence(matrixText(j));
}

function stressBlock(cmd: string, j: StressJson): string {
  const s = j.shape, i = j.inject;
  const secs = j.results.map((r) => (r.durationMs / 1000).toFixed(1)).join('/');
  return `\`${cmd}\` — ${s ? `${s.domus + 1} domains × ${s.vcpus} vCPUs, ${s.devices} devices, ` : ''}` +
    `${i ? `inject iommu=${i.iommu / 1000} map=${i.map / 1000}, ` : ''}seed ${j.seed}, ${j.cores} cores` +
    `${j.load ? ` (load average ${j.load.start[0].toFixed(1)} at start, ${j.load.end[0].toFixed(1)} at end)` : ''}${j.interrupted ? ', interrupted' : ''}; ` +
    `seconds of trials per strategy: ${secs}. A trial ends at its first crash, so crashing strategies run shorter trials.\n\n` + fence(matrix(j));
}

interface VerifyJson { cores?: number; load?: { start: number[]; end: number[] }; cells: Parameters<typeof mergeCells>[0] }

function verifyBlock(cmd: string, j: VerifyJson): string {
  const by = new Map<string, VerifyJson['cells']>();
  for (const c of j.cells) {
    const key = `${c.scenario}\0${c.strategy}`;
    by.set(key, [...(by.get(key) ?? []), c]);
  }
  const results = [...by.values()].map((cs) => mergeCells(cs));
  const runs = results.reduce((s, r) => s + r.runs, 0);
  const count = (v: string): number => results.filter((r) => verdictOf(r) === v).length;
  const forb = results.filter((r) => r.forbidden > 0).length;
  return `\`${cmd}\` — ${results.length} cells, ${n(runs)} runs, ${j.cores ?? '?'} cores` +
    `${j.load ? ` (load average ${j.load.start[0].toFixed(1)} at start, ${j.load.end[0].toFixed(1)} at end)` : ''}; ` +
    `${count('refuted')} refuted, ${count('verified')} verified, ${count('incomplete')} incomplete; \`N!\`: runs with a forbidden outcome (${forb} cell${forb === 1 ? '' : 's'}). ` +
    `\`refuted X@Kp\`: the first failure has K preemptions, the fewest of any failing run; \`verified Nr Ms\`: N runs, M distinct terminal states.\n\n` +
    fence(verifyMatrix(results));
}

function locksBlock(cmd: string, j: BenchReport): string {
  // JSON has no NaN: a figure with no counted round comes back as null, which the report shows as '-'.
  const rows = (xs: BenchReport['results']): BenchReport['results'] => xs.map((r) => ({ ...r, nsPerOp: r.nsPerOp ?? NaN }));
  return `\`${cmd}\`:\n\n` + fence(formatReport({ ...j, results: rows(j.results), reference: rows(j.reference) }));
}

/** The block's new body (between the markers) from its JSON. */
export function renderBlock(b: Block, data: unknown): string {
  if (b.kind === 'explore') return exploreBlock(b.command, data as ExploreJson);
  if (b.kind === 'stress') return stressBlock(b.command, data as StressJson);
  if (b.kind === 'verify') return verifyBlock(b.command, data as VerifyJson);
  return locksBlock(b.command, data as BenchReport);
}

/** The README with every marked block rewritten from its JSON (paths relative to `dir`). */
export function renderTables(readme: string, dir: string): string {
  return readme.replace(BLOCK, (whole, kind: string, command: string) => {
    const b = blocks(whole)[0];
    const file = path.resolve(dir, b.json);
    if (!fs.existsSync(file)) throw new Error(`readme:tables: ${b.json} not found (run: ${command})`);
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return `<!-- readme:tables ${kind}: ${command} -->\n${renderBlock(b, data)}\n<!-- /readme:tables -->`;
  });
}
