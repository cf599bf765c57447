// vpci-lab hunt: generated concurrent programs over guest and toolstack behaviour, run under PCT; every failure
// shrunk to the smallest program and schedule that still fail and written out as an ordinary scenario file.

import fs from 'node:fs';
import os from 'node:os';
import { UsageError } from '../../cli/args.js';
import { parseCommand, string, strings, int, choice, duration, outFile, outDir } from '../../cli/options.js';
import { exitCode } from '../../cli/exit.js';
import { onStop } from '../../cli/signals.js';
import { defaultOutDir } from '../../cli/output.js';
import { loadStrategy, STRATEGY_NAMES, PatchError, shellWord } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { hunt, type HuntFinding, type HuntState } from '../../lib/explore/hunt/hunt.js';
import { readKnown, KnownFileError, type KnownGroup } from '../../lib/explore/hunt/dedup.js';
import type { DomuPolicy } from '../../lib/explore/hunt/program.js';
import { scheduleNote } from '../../lib/explore/hunt/write.js';
import { backendOptions } from '../../cli/common-options.js';
import { resolveBackend, cReplayOptions } from '../../cli/backend.js';

const SPEC = {
  usage: 'hunt --strategy NAME|FILE [options]',
  description: `Generate small concurrent programs (2-4 vCPUs of Dom0 and a DomU, 1-6 actions each: config reads and writes of
COMMAND, the BARs and the ROM BAR including sizing writes, add/remove/assign/deassign, one-shot faults), run each
under PCT, and shrink every forbidden outcome (crash, deadlock, hang, stale mapping) to the fewest vCPUs, actions
and context switches that still fail. Each new finding is written to DIR/finding-N.mjs, an ordinary scenario file
that \`vpci-lab repro FILE --strategy NAME --schedule S\` replays exactly. Exit 1 when there is a new finding, 0
when there is none, 2 for bad input, 130 on Ctrl-C and 143 on SIGTERM (every finding written so far is kept).`,
  options: {
    strategy: string(`locking strategy (${STRATEGY_NAMES.join(', ')}) or a patch file`, { arg: 'NAME|FILE' }),
    budget: duration('wall-clock budget', { default: 600_000, defaultText: '10m' }),
    seed: int('generator seed', { default: 1, min: 0, max: 2 ** 31 - 1 }),
    'runs-per-program': int('PCT runs per program', { default: 20, min: 1, max: 100_000 }),
    'pct-depth': int('PCT depth of the search', { default: 3, min: 1, max: 16, arg: 'D' }),
    verify: int('also verify every program PCT found nothing in: every schedule with at most K preemptions (default: off)', { min: 0, max: 4, arg: 'K' }),
    domu: choice('DomU vCPUs, with the v4/v5 series\' DomU vPCI: none, as Xen has it (only the hardware domain has vPCI); on devices assigned at boot that it keeps; or that Dom0 may force-detach meanwhile', ['off', 'owned', 'detach'] as const, 'off'),
    known: strings('JSON list of known groups [{ "name", "outcome", "where"?, "sites"? }]: counted, not reported again (repeatable)', { arg: 'FILE' }),
    'max-findings': int('stop after N new findings', { min: 1 }),
    out: outDir('where findings go (default out/hunt-<date-time>-<pid>); a directory that holds findings already keeps them, the new ones numbered after'),
    json: outFile('{ command, cores, strategy, seed, programs, runs, elapsedMs, findings, duplicates, known }, rewritten after every finding'),
    ...backendOptions,
  },
};

export function huntJson(o: { strategy: string; seed: number; budgetMs: number; runsPerProgram: number; domu: DomuPolicy }, s: HuntState): unknown {
  return {
    command: 'hunt', cores: os.availableParallelism(), ...o, programs: s.programs, runs: s.runs, elapsedMs: Math.round(s.elapsedMs),
    interrupted: s.interrupted, duplicates: s.duplicates, known: s.known,
    findings: s.findings.map((f) => ({
      id: f.id, file: f.file, outcome: f.outcome, where: f.where, vcpu: f.vcpu, message: f.message, group: f.group, schedule: f.schedule,
      reduced: f.reduced, vcpus: f.vcpus, actions: f.actions, original: f.original, atMs: Math.round(f.atMs),
      program: f.programIndex, replayed: f.replayed,
    })),
  };
}

const fmtTime = (ms: number): string => { const t = Math.floor(ms / 1000); return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`; };
const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

export function progressLine(s: HuntState): string {
  const sec = Math.max(s.elapsedMs / 1000, 1e-3);
  return `[hunt] ${fmtTime(s.elapsedMs)}  programs ${s.programs} (${(s.programs / sec * 60).toFixed(0)}/min)  runs ${s.runs} (${(s.runs / sec).toFixed(0)}/s)  findings ${s.findings.length} new, ${sum(s.duplicates)} again, ${sum(s.known)} known`;
}

function findingText(f: HuntFinding, strategy: string): string {
  return `finding ${f.id}: ${f.outcome}${f.where ? ` in ${f.where}` : ''}${f.vcpu ? ` on ${f.vcpu}` : ''}: ${f.vcpus} vCPUs, ${f.actions} actions (from ${f.original.vcpus}/${f.original.actions}), `
    + `${scheduleNote(f.reduced)}, at ${fmtTime(f.atMs)}${f.replayed ? '' : ' (REPLAY FROM THE FILE DIFFERED)'}\n`
    + `  ${f.file}\n  vpci-lab repro ${shellWord(f.file)} --strategy ${strategy} --schedule ${f.schedule}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  if (!v.strategy) throw new UsageError(`hunt needs --strategy (one of ${STRATEGY_NAMES.join(', ')}, or a patch file)`);
  if (v.backend === 'c' && v.strategy.includes(',')) throw new UsageError('with --backend c, --strategy names the one TypeScript strategy the build stands for');
  const c = await resolveBackend(v);
  let strategy: string;
  try { strategy = c ? c.strategy.name : (await loadStrategy(v.strategy)).name; } catch (e) { if (e instanceof PatchError) throw new UsageError(e.message); throw e; }
  // What a finding's replay line repeats after --strategy: with the C backend, the tree and patches that built it.
  const replayStrategy = `${shellWord(v.strategy)}${c ? cReplayOptions(v) : ''}`;
  let known: KnownGroup[] = [];
  for (const file of v.known ?? []) {
    try { known = [...known, ...readKnown(file)]; } catch (e) { if (e instanceof KnownFileError) throw new UsageError(e.message); throw e; }
  }
  const out = v.out ?? defaultOutDir('hunt');
  fs.mkdirSync(out, { recursive: true });
  const firstId = 1 + Math.max(0, ...fs.readdirSync(out).map((f) => Number(/^finding-(\d+)\.mjs$/.exec(f)?.[1] ?? 0)));
  const json = v.json;
  const budgetMs = v.budget!, seed = v.seed, runsPerProgram = v['runs-per-program'], domu = v.domu;
  const command = ['vpci-lab hunt', ...argv.filter((a, i) => a !== '--json' && argv[i - 1] !== '--json' && !a.startsWith('--json='))].join(' ');
  const opts = { strategy: v.strategy, seed, budgetMs, runsPerProgram, domu };
  const tty = process.stderr.isTTY === true;
  let lastLine = 0, interrupted = false;
  // SIGTERM (CI cancellation, Kubernetes, Slurm) ends the hunt as Ctrl-C does: the finding under way stops
  // shrinking and is written, the JSON too, exit 143. A second Ctrl-C quits at once.
  const offStop = onStop((sig) => {
    if (interrupted) { if (sig === 'SIGINT') process.exit(130); return; }
    interrupted = true;
    process.stderr.write(`\n${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}: finishing the finding under way${sig === 'SIGINT' ? ' (Ctrl-C again to quit at once)' : ''}; every finding written so far is kept\n`);
  });
  const writeJson = (s: HuntState): void => { if (json) fs.writeFileSync(json, JSON.stringify(huntJson(opts, s), null, 2) + '\n'); };
  const pool = createPool(4);
  let s: HuntState;
  try {
    s = await hunt(pool, { strategy, seed, budgetMs, runsPerProgram, pctDepth: v['pct-depth'], verifyBound: v.verify, domu, out, firstId, known, command, replayStrategy }, {
      shouldStop: (st) => interrupted || st.findings.length >= (v['max-findings'] ?? Infinity),
      onProgress: (st) => {
        const now = performance.now();
        if (now - lastLine < (tty ? 250 : 5000)) return;
        lastLine = now;
        const line = `${progressLine(st)}  ${st.status}`;
        process.stderr.write(tty ? `\r${line.slice(0, (process.stderr.columns ?? 160) - 1)}\x1b[K` : `${line}\n`);
      },
      onFinding: (f, st) => {
        if (tty) process.stderr.write('\r\x1b[K');
        process.stdout.write(findingText(f, replayStrategy));
        writeJson(st);
      },
    });
  } finally {
    offStop();
    await pool.close().catch(() => {});
  }
  if (tty) process.stderr.write('\r\x1b[K');
  process.stdout.write(`${progressLine(s)}${interrupted ? ' (interrupted)' : ''}\n`);
  for (const [k, n] of Object.entries(s.known)) process.stdout.write(`  known: ${k} (${n}x)\n`);
  for (const [k, n] of Object.entries(s.duplicates)) process.stdout.write(`  again: ${k} (${n}x)\n`);
  writeJson(s);
  return exitCode({ forbidden: s.findings.length, interrupted });
}
