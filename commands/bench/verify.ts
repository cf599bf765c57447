// vpci-lab bench verify: how fast verify searches (runs per second), how much partial-order reduction saves
// (unreduced runs / reduced runs, per scenario), the wall time of the whole built-in matrix, and — with
// --soundness — the check that the reduced search reaches exactly the outcomes and terminal states of the
// unreduced one in every cell (the suite checks a subset; this is the full set).

import { parseCommand, string, int, flag, outFile } from '../../cli/options.js';
import { UsageError, nameList } from '../../cli/args.js';
import { Outputs } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';
import { availableParallelism, loadavg } from 'node:os';
import { parseStrategies } from '../../lib/strategy/index.js';
import { backendOptions } from '../../cli/common-options.js';
import { resolveBackend } from '../../cli/backend.js';
import { createPool } from '../../lib/run/index.js';
import { FAULT_KINDS } from '../../lib/sched/fault.js';
import { BUILTIN_SCENARIOS, loadScenario } from '../../lib/scenario/scenario.js';
import { verify, type VerifyResult } from '../../lib/explore/verify.js';
import { verdictOf } from '../../report/verify-text.js';
import { table } from '../../report/tables.js';

const SPEC = {
  usage: 'bench verify [options]',
  description: `Run verify over the scenario x strategy matrix and print runs, runs/s and verdict per cell, the matrix's wall time,
and with --soundness the unreduced search and the reduced one without sleep sets beside the reduced one: the
reduction factors per scenario, and exit 1 if any cell's reduced search (with or without sleep sets) misses (or
adds) an outcome or a terminal state.`,
  options: {
    scenarios: string('comma list (default all built-in)', { arg: 'LIST' }),
    strategies: string('comma list or all', { default: 'all', arg: 'LIST' }),
    preemptions: int('preemption bound K', { default: 2, max: 16 }),
    faults: string('fault kinds that branch, or none', { default: FAULT_KINDS.join(','), arg: 'LIST' }),
    'max-faults': int('faults per run', { default: 1, max: 16 }),
    'no-sleep': flag('the reduced search without sleep sets (DPOR alone)'),
    ...backendOptions,
    soundness: flag('also run every cell unreduced (and reduced without sleep sets) and compare outcomes and terminal states'),
    json: outFile('write { cores, loadavg, cells: [{ scenario, strategy, runs, ms, verdict, unreduced?, dpor?, same? }], wallMs }'),
  },
};

interface Cell {
  scenario: string; strategy: string; runs: number; ms: number; verdict: string; states: number; sleepCut: number;
  /** --soundness: the unreduced search's runs, the reduced search's without sleep sets, and whether both reach the unreduced outcomes and states. */
  unreduced?: number; unreducedMs?: number; dpor?: number; same?: boolean;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  let kinds = 0;
  if (v.faults !== 'none') for (const k of nameList(v.faults, '--faults')) {
    const i = (FAULT_KINDS as readonly string[]).indexOf(k);
    if (i < 0) throw new UsageError(`--faults: unknown fault kind '${k}' (known: ${FAULT_KINDS.join(', ')})`);
    kinds |= 1 << i;
  }
  const cb = await resolveBackend(v);
  let strategies;
  try { strategies = cb ? [cb.strategy] : await parseStrategies(v.strategies); } catch (e) { throw new UsageError((e as Error).message); }
  const names = v.scenarios ? nameList(v.scenarios, '--scenarios') : [...BUILTIN_SCENARIOS];
  const pool = createPool(3);
  const cells: Cell[] = [];
  const t0 = performance.now();
  try {
    for (const name of names) {
      let loaded;
      try { loaded = await loadScenario(name); } catch (e) { throw new UsageError((e as Error).message); }
      for (const st of strategies) {
        const o = { bound: v.preemptions, kinds, maxFaults: v['max-faults'], maxRuns: Number.MAX_SAFE_INTEGER, budgetMs: Infinity, seed: 1 };
        const a = await verify(pool, loaded.url, loaded.scenario, st.name, { ...o, reduce: true, sleep: !v['no-sleep'] });
        const c: Cell = { scenario: name, strategy: st.name, runs: a.runs, ms: a.ms, verdict: verdictOf(a), states: a.digests.length, sleepCut: a.sleepCut };
        if (v.soundness) {
          const b = await verify(pool, loaded.url, loaded.scenario, st.name, { ...o, reduce: false });
          const d = v['no-sleep'] ? a : await verify(pool, loaded.url, loaded.scenario, st.name, { ...o, reduce: true, sleep: false });
          Object.assign(c, { unreduced: b.runs, unreducedMs: b.ms, dpor: d.runs, same: same(a, b) && same(d, b) });
        }
        cells.push(c);
        process.stderr.write(`${name} / ${st.name}: ${c.verdict}, ${c.runs} runs in ${(c.ms / 1000).toFixed(1)} s` +
          (c.unreduced !== undefined ? `; without sleep sets ${c.dpor}, unreduced ${c.unreduced} runs, ${c.same ? 'same' : 'DIFFERENT'} outcomes and states` : '') + '\n');
      }
    }
  } finally {
    await pool.close().catch(() => {});
  }
  const wallMs = performance.now() - t0;
  process.stdout.write(report(cells, wallMs, v.preemptions, kinds, v['max-faults']) + '\n');
  const out = new Outputs();
  if (v.json) out.write(v.json, JSON.stringify({ cores: availableParallelism(), loadavg: loadavg(), cells, wallMs }, null, 2) + '\n');
  const bad = cells.filter((c) => c.same === false).length;
  return bad > 0 ? 1 : exitCode({ writeFailures: out.failed.length });
}

function same(a: VerifyResult, b: VerifyResult): boolean {
  return a.complete && b.complete && JSON.stringify(a.digests) === JSON.stringify(b.digests) &&
    JSON.stringify(Object.keys(a.outcomes).sort()) === JSON.stringify(Object.keys(b.outcomes).sort());
}

function report(cells: Cell[], wallMs: number, k: number, kinds: number, f: number): string {
  const runs = cells.reduce((n, c) => n + c.runs, 0), ms = cells.reduce((n, c) => n + c.ms, 0);
  const lines = [`verify matrix, K=${k}, ${kinds ? `faults<=${f}` : 'no faults'}, ${availableParallelism()} cores (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}): ` +
    `${cells.length} cells, ${runs} runs in ${(wallMs / 1000).toFixed(1)} s wall (${(runs / (ms / 1000)).toFixed(0)} runs/s)`];
  const soundness = cells[0]?.unreduced !== undefined;
  if (soundness) {
    const u = cells.reduce((n, c) => n + (c.unreduced ?? 0), 0), d = cells.reduce((n, c) => n + (c.dpor ?? 0), 0);
    const bad = cells.filter((c) => !c.same).map((c) => `${c.scenario}/${c.strategy}`);
    lines.push(`unreduced ${u} runs; DPOR alone ${d} (${(u / d).toFixed(2)}x); DPOR with sleep sets ${runs} (${(u / runs).toFixed(2)}x); ` +
      (bad.length === 0 ? 'every cell reaches the same outcomes and terminal states' : `DIFFERENT outcomes or states: ${bad.join(', ')}`));
  }
  const scen = [...new Set(cells.map((c) => c.scenario))];
  const rows = [['scenario', 'runs', 's', 'runs/s', ...(soundness ? ['no sleep', 'unreduced', 'factor', 'no sleep', 'same'] : [])]];
  for (const s of scen) {
    const cs = cells.filter((c) => c.scenario === s);
    const r = cs.reduce((n, c) => n + c.runs, 0), t = cs.reduce((n, c) => n + c.ms, 0) / 1000;
    const row = [s, String(r), t.toFixed(1), (r / t).toFixed(0)];
    if (soundness) {
      const u = cs.reduce((n, c) => n + (c.unreduced ?? 0), 0), d = cs.reduce((n, c) => n + (c.dpor ?? 0), 0);
      row.push(String(d), String(u), `${(u / r).toFixed(2)}x`, `${(u / d).toFixed(2)}x`, cs.every((c) => c.same) ? 'yes' : 'NO');
    }
    rows.push(row);
  }
  return [...lines, table(rows, ['l'])].join('\n');
}
