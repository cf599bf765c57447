// vpci-lab hunt: generated concurrent programs over guest and toolstack behaviour, run under PCT; every failure
// shrunk to the smallest program and schedule that still fail and written out as an ordinary scenario file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, intOpt, durationOpt, UsageError } from '../args.js';
import { strategyByName, STRATEGY_NAMES } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { hunt, type HuntFinding, type HuntState } from '../hunt/hunt.js';
import { readKnown, KnownFileError, type KnownGroup } from '../hunt/dedup.js';
import type { DomuPolicy } from '../hunt/program.js';

const HELP = `usage: vpci-lab hunt --strategy NAME [options]

Generate small concurrent programs (2-4 vCPUs of Dom0 and a DomU, 1-6 actions each: config reads and writes of
COMMAND, BARs and the ROM BAR including sizing writes, add/remove/assign/deassign, one-shot faults), run each under
PCT, and shrink every forbidden outcome (crash, deadlock, hang, stale mapping) to the fewest vCPUs, actions and
context switches that still fail. Each new finding is written to DIR/finding-N.mjs, a scenario file that
\`vpci-lab repro FILE --strategy NAME --schedule S\` replays exactly.

  --strategy NAME         locking strategy (${STRATEGY_NAMES.join(', ')})
  --budget 10m            wall-clock budget (default 10m)
  --seed N                generator seed (default 1)
  --runs-per-program N    PCT runs per program (default 20)
  --pct-depth D           PCT depth for the search (default 3)
  --out DIR               where findings go (default out/hunt)
  --known FILE            JSON list of known groups [{ "name", "outcome", "where"?, "sites"? }]: not reported again
  --domu off|owned|detach DomU vCPUs (the v4/v5 series' DomU vPCI): off; on devices assigned at boot that it
                          keeps (default owned); or that Dom0 may deassign/remove meanwhile (forced detach)
  --max-findings N        stop after N new findings
  --json FILE             { command, cores, strategy, seed, programs, runs, elapsedMs, findings, duplicates, known }`;

const DOMU: readonly DomuPolicy[] = ['off', 'owned', 'detach'];

export function huntJson(o: { strategy: string; seed: number; budgetMs: number; runsPerProgram: number; domu: DomuPolicy }, s: HuntState): unknown {
  return {
    command: 'hunt', cores: os.availableParallelism(), ...o, programs: s.programs, runs: s.runs, elapsedMs: Math.round(s.elapsedMs),
    interrupted: s.interrupted, duplicates: s.duplicates, known: s.known,
    findings: s.findings.map((f) => ({
      id: f.id, file: f.file, outcome: f.outcome, where: f.where, vcpu: f.vcpu, message: f.message, group: f.group, schedule: f.schedule,
      pctDepth: f.depth, switches: f.switches, vcpus: f.vcpus, actions: f.actions, original: f.original, atMs: Math.round(f.atMs),
      program: f.programIndex, replayed: f.replayed,
    })),
  };
}

const fmtTime = (ms: number): string => { const t = Math.floor(ms / 1000); return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`; };

function progressLine(s: HuntState): string {
  const sec = Math.max(s.elapsedMs / 1000, 1e-3);
  const dup = Object.values(s.duplicates).reduce((a, b) => a + b, 0), known = Object.values(s.known).reduce((a, b) => a + b, 0);
  return `[hunt] ${fmtTime(s.elapsedMs)}  programs ${s.programs} (${(s.programs / sec * 60).toFixed(0)}/min)  runs ${s.runs} (${(s.runs / sec).toFixed(0)}/s)  findings ${s.findings.length} new, ${dup} dup, ${known} known  ${s.status}`;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, {
    strategy: { type: 'string' }, budget: { type: 'string' }, seed: { type: 'string' }, 'runs-per-program': { type: 'string' },
    'pct-depth': { type: 'string' }, out: { type: 'string' }, known: { type: 'string' }, domu: { type: 'string' },
    'max-findings': { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { process.stdout.write(HELP + '\n'); return 0; }
  const strategy = v.strategy as string | undefined;
  if (!strategy) throw new UsageError(`hunt needs --strategy (one of ${STRATEGY_NAMES.join(', ')})`);
  if (!strategyByName(strategy)) throw new UsageError(`unknown strategy '${strategy}' (known: ${STRATEGY_NAMES.join(', ')})`);
  const budgetMs = durationOpt(v.budget, 'budget', 600_000);
  const seed = intOpt(v.seed, 'seed', 1, 0, 2 ** 31 - 1);
  const runsPerProgram = intOpt(v['runs-per-program'], 'runs-per-program', 20, 1, 100_000);
  const pctDepth = intOpt(v['pct-depth'], 'pct-depth', 3, 1, 16);
  const maxFindings = intOpt(v['max-findings'], 'max-findings', Number.MAX_SAFE_INTEGER, 1);
  const domu = ((v.domu as string | undefined) ?? 'owned') as DomuPolicy;
  if (!DOMU.includes(domu)) throw new UsageError(`--domu must be off, owned or detach, got '${domu}'`);
  const out = (v.out as string | undefined) ?? path.join('out', 'hunt');
  let known: KnownGroup[] = [];
  if (v.known !== undefined) {
    try { known = readKnown(v.known as string); } catch (e) { if (e instanceof KnownFileError) throw new UsageError(e.message); throw e; }
  }
  const json = v.json as string | undefined;
  for (const f of [json].filter((x): x is string => !!x)) {
    if (!fs.existsSync(path.dirname(path.resolve(f)))) throw new UsageError(`--json ${f}: directory does not exist`);
  }
  try { fs.mkdirSync(out, { recursive: true }); } catch (e) { throw new UsageError(`--out ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }

  const command = `vpci-lab hunt ${argv.filter((a) => a !== '--json' && a !== json).join(' ')}`.trim();
  const opts = { strategy, seed, budgetMs, runsPerProgram, domu };
  const tty = process.stderr.isTTY === true;
  let lastLine = 0, interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: finishing the finding under way; every finding written so far is kept\n');
  };
  const writeJson = (s: HuntState): void => { if (json) fs.writeFileSync(json, JSON.stringify(huntJson(opts, s), null, 2) + '\n'); };
  process.on('SIGINT', onSigint);
  const pool = createPool(4);
  let s: HuntState;
  try {
    s = await hunt(pool, { ...opts, pctDepth, out, known, command }, {
      shouldStop: (st) => interrupted || st.findings.length >= maxFindings,
      onProgress: (st) => {
        const now = performance.now();
        if (now - lastLine < (tty ? 250 : 5000)) return;
        lastLine = now;
        process.stderr.write(tty ? `\r${progressLine(st).slice(0, (process.stderr.columns ?? 160) - 1)}\x1b[K` : `${progressLine(st)}\n`);
      },
      onFinding: (f: HuntFinding, st) => {
        if (tty) process.stderr.write('\r\x1b[K');
        process.stdout.write(`finding ${f.id}: ${f.outcome}${f.where ? ` in ${f.where}` : ''}${f.vcpu ? ` on ${f.vcpu}` : ''} — ${f.vcpus} vCPUs, ${f.actions} actions (from ${f.original.vcpus}/${f.original.actions}), PCT depth ${f.depth}, ${f.switches} switches, at ${fmtTime(f.atMs)}${f.replayed ? '' : ' (REPLAY FROM FILE DIFFERED)'}\n  ${f.file}\n  vpci-lab repro ${f.file} --strategy ${strategy} --schedule ${f.schedule}\n`);
        writeJson(st);
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    await pool.close().catch(() => {});
  }
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(`${progressLine(s).replace(/ {2}(generating|done|shrinking.*|reducing.*)$/, '')}${s.interrupted && interrupted ? ' (interrupted)' : ''}\n`);
  for (const [k, n] of Object.entries(s.known)) process.stdout.write(`  known: ${k} (${n}x)\n`);
  for (const [k, n] of Object.entries(s.duplicates)) process.stdout.write(`  again: ${k} (${n}x)\n`);
  writeJson(s);
  return interrupted ? 130 : 0;
}
