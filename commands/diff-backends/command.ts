// vpci-lab diff-backends: every built-in scenario under the TypeScript model and under Xen's compiled C, side by
// side: which outcomes each backend reaches and where, within the same bounds, and how fast each runs.

import { availableParallelism, loadavg } from 'node:os';
import { parseCommand, string, int, outFile } from '../../cli/options.js';
import { UsageError, nameList } from '../../cli/args.js';
import { Outputs } from '../../cli/output.js';
import { backendOptions } from '../../cli/common-options.js';
import { resolveBackend, judgeAs, defaultJudge } from '../../cli/backend.js';
import { loadStrategy } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { BUILTIN_SCENARIOS, loadScenario } from '../../lib/scenario/scenario.js';
import { verify, type VerifyResult } from '../../lib/explore/verify.js';
import { compareOutcomes } from './compare.js';

const SPEC = {
  usage: 'diff-backends --xen-src DIR [--patch FILES] [--strategy NAME] [options]',
  description: `Verify every built-in scenario (or --scenarios) twice within the same bounds: under the TypeScript strategy
--strategy (default: the tree's unpatched generation, baseline for 4.17-shaped trees, upstream for HEAD) and under
Xen's vPCI C compiled from --xen-src (with --patch), judged as that strategy.
Prints one row per scenario: the outcome kinds and crash sites each backend reaches, whether they agree, and each
side's runs per second. Exit 0 (a difference is a finding to explain, not a failure), 2 for bad input.`,
  options: {
    scenarios: string('comma list (default all built-in)', { arg: 'LIST' }),
    strategy: string('the TypeScript strategy the C build stands for (default: baseline or upstream, by the tree)', { arg: 'NAME' }),
    preemptions: int('preemption bound K', { default: 2, max: 16 }),
    'max-runs': int('stop each cell after N runs (incomplete)', { default: 20_000, min: 1 }),
    'xen-src': backendOptions['xen-src'],
    patch: backendOptions.patch,
    json: outFile('write { cores, load, rows: [{ scenario, ts, c, same }] }'),
  },
};

interface Side { verdict: string; outcomes: string[]; runs: number; ms: number; complete: boolean; error?: string }
interface Row { scenario: string; ts: Side; c: Side; same: boolean; renamed: string[] }

/** Outcome kinds with their sites, sorted: "null-deref@vpci_read". */
function outcomes(r: VerifyResult): string[] {
  return Object.entries(r.outcomes).flatMap(([o, st]) => (st!.where.length ? st!.where.map((w) => `${o}@${w}`) : [o])).sort();
}

function side(r: VerifyResult): Side {
  const failing = Object.keys(r.outcomes).some((o) => o !== 'ok');
  return { verdict: !r.complete ? 'incomplete' : failing ? 'refuted' : 'verified', outcomes: outcomes(r), runs: r.runs, ms: r.ms, complete: r.complete };
}

const label = (r: Pick<Row, 'same' | 'renamed'>): string => (!r.same ? 'DIFFERENT' : r.renamed.length ? 'same*' : 'same');

const rate = (s: Side): string => `${(s.runs / Math.max(1e-3, s.ms / 1000)).toFixed(0)}/s`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  // Every name is checked before the tree is compiled (that is the slow part).
  const names = v.scenarios ? nameList(v.scenarios, '--scenarios') : [...BUILTIN_SCENARIOS];
  const scenarios = new Map<string, Awaited<ReturnType<typeof loadScenario>>>();
  for (const name of names) { try { scenarios.set(name, await loadScenario(name)); } catch (e) { throw new UsageError((e as Error).message); } }
  try { if (v.strategy) await loadStrategy(v.strategy); } catch (e) { throw new UsageError((e as Error).message); }
  const c = await resolveBackend({ 'xen-src': v['xen-src'], patch: v.patch, backend: 'c' });
  if (!c) throw new UsageError('diff-backends needs a C build');
  const as = v.strategy ?? defaultJudge(c);
  if (!v.strategy) await loadStrategy(as);
  const pool = createPool(4);
  const rows: Row[] = [];
  const o = { bound: v.preemptions, reduce: true, kinds: 0, maxFaults: 0, maxRuns: v['max-runs'], budgetMs: Infinity, seed: 1 };
  try {
    for (const name of names) {
      const loaded = scenarios.get(name)!;
      judgeAs(loaded.scenario, c.strategy.name, as);
      const ts = side(await verify(pool, loaded.url, loaded.scenario, as, o));
      let cs: Side;
      try { cs = side(await verify(pool, loaded.url, loaded.scenario, c.strategy.name, o)); } catch (e) {
        cs = { verdict: 'error', outcomes: [], runs: 0, ms: 0, complete: false, error: (e as Error).message.split('\n')[0] };
      }
      const row = { scenario: name, ts, c: cs, ...compareOutcomes(ts.outcomes, cs.outcomes) };
      rows.push(row);
      process.stderr.write(`${name}: ${label(row)}\n`);
    }
  } finally {
    await pool.close().catch(() => {});
  }
  const w = Math.max(8, ...rows.map((r) => r.scenario.length));
  process.stdout.write(`diff-backends (K=${v.preemptions}, no faults): TypeScript ${as} vs ${c.strategy.name}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.scenario.padEnd(w)}  ${label(r).padEnd(9)}  ts ${r.ts.verdict} [${r.ts.outcomes.join(' ')}] ${r.ts.runs} runs ${rate(r.ts)}\n`);
    process.stdout.write(`${''.padEnd(w)}             c  ${r.c.verdict} [${r.c.outcomes.join(' ')}] ${r.c.runs} runs ${rate(r.c)}${r.c.error ? ` (${r.c.error})` : ''}\n`);
  }
  const renames = [...new Set(rows.flatMap((r) => r.renamed))];
  if (renames.length) process.stdout.write(`same*: the same once Xen's renames between the two trees are applied: ${renames.join('; ')}\n`);
  const tot = (k: 'ts' | 'c'): string => { const runs = rows.reduce((n, r) => n + r[k].runs, 0), ms = rows.reduce((n, r) => n + r[k].ms, 0); return `${runs} runs, ${(runs / Math.max(1e-3, ms / 1000)).toFixed(0)} runs/s`; };
  process.stdout.write(`total: TypeScript ${tot('ts')}; C ${tot('c')} (same machine, same run, load ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)\n`);
  const out = new Outputs();
  if (v.json) out.write(v.json, JSON.stringify({ command: 'diff-backends', cores: availableParallelism(), load: loadavg(), xen: c.provenance, rows }, null, 2) + '\n');
  return out.failed.length ? 1 : 0;
}
