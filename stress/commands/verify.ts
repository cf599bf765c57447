// vpci-lab verify: every schedule within a preemption bound and every fault placement within a budget, with
// partial-order reduction — a verdict within bounds, not a sample.

import fs from 'node:fs';
import path from 'node:path';
import { parse, intOpt, durationOpt, UsageError } from '../args.js';
import { parseStrategies } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { FAULT_KINDS } from '../../lib/sched/fault.js';
import { BUILTIN_SCENARIOS, loadScenario, ScenarioError, type Scenario } from '../scenario.js';
import { verify, type VerifyResult } from '../verify.js';
import { verdictLine, outcomeLines, matrix, cellJson, mergeCells, boundsText } from '../verify-report.js';
import { replayCommand } from './repro.js';
import { renderTimeline } from '../timeline.js';

const HELP = `usage: vpci-lab verify [SCENARIO|PATH|all] --strategy NAME|LIST|all [options]

Search every schedule with at most K preemptions, and every placement of at most F faults, of a race scenario
(default: all built-in) under a strategy, on the real threads with controlled scheduling; partial-order reduction
skips schedules that only reorder independent steps. Verdicts: verified (no failing run within the bounds),
refuted (a failing run, with the fewest preemptions, its schedule string and timeline), incomplete (cut short).

  --strategy S        strategy, comma list or all
  --preemptions K     preemption bound, or all for none (default 2); searched K = 0, 1, ... in turn
  --faults LIST       fault kinds that branch: ${FAULT_KINDS.join(',')} (default none)
  --max-faults F      faults per run (default 1)
  --no-reduce         no partial-order reduction (every schedule within the bound)
  --max-runs N        stop after N runs per cell (verdict: incomplete)
  --budget 10m        stop after this long per cell (verdict: incomplete)
  --shard i/n         search only shard i of n (1-based); merge shards' JSON with --merge
  --merge FILES       merge shard JSON files (comma-separated) into one verdict per cell
  --seed N            model seed (default 1)
  --json FILE         write every cell's result
  --html FILE         timeline of the first failure (single cell; default out/verify-<scenario>-<strategy>.html)
  --events N          interleaving lines to print (default 60, 0 = all)

Exit code 1 when an outcome the scenario forbids for the strategy is reachable, else 0; bad input 2.`;

function parseShard(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--shard wants i/n like 2/3, got '${v}'`);
  const i = Number(m[1]), n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new UsageError(`--shard ${v}: i must be between 1 and n`);
  return { index: i - 1, count: n };
}

function parseKinds(v: string | undefined): number {
  if (v === undefined || v === '' || v === 'none') return 0;
  let m = 0;
  for (const k of v.split(',').map((x) => x.trim())) {
    const i = (FAULT_KINDS as readonly string[]).indexOf(k);
    if (i < 0) throw new UsageError(`--faults: unknown fault kind '${k}' (known: ${FAULT_KINDS.join(', ')})`);
    m |= 1 << i;
  }
  return m;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    strategy: { type: 'string' }, preemptions: { type: 'string' }, faults: { type: 'string' }, 'max-faults': { type: 'string' },
    'no-reduce': { type: 'boolean' }, 'max-runs': { type: 'string' }, budget: { type: 'string' }, shard: { type: 'string' },
    merge: { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, html: { type: 'string' }, events: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (v.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (v.merge !== undefined) return merge(String(v.merge), v.json as string | undefined);
  const pre = (v.preemptions as string | undefined) ?? '2';
  if (pre !== 'all' && !/^\d+$/.test(pre)) throw new UsageError(`--preemptions wants a whole number >= 0 or all, got '${pre}'`);
  const bound = pre === 'all' ? Infinity : intOpt(pre, 'preemptions', 2, 0, 64);
  const kinds = parseKinds(v.faults as string | undefined);
  const maxFaults = intOpt(v['max-faults'], 'max-faults', 1, 0, 64);
  const maxRuns = intOpt(v['max-runs'], 'max-runs', Number.MAX_SAFE_INTEGER, 1);
  const budgetMs = durationOpt(v.budget, 'budget', Infinity);
  const shard = parseShard(v.shard as string | undefined);
  const seed = intOpt(v.seed, 'seed', 1, 0, 2 ** 31 - 1);
  const maxEvents = intOpt(v.events, 'events', 60, 0);
  if (positionals.length > 1) throw new UsageError('verify wants at most one scenario (name, path, comma list or all)');
  if (!v.strategy) throw new UsageError('verify needs --strategy (a name, a comma list or all)');
  let strategies;
  try { strategies = await parseStrategies(String(v.strategy)); } catch (e) { throw new UsageError((e as Error).message); }
  const refs = (positionals[0] ?? 'all') === 'all' ? [...BUILTIN_SCENARIOS] : positionals[0].split(',').filter(Boolean);
  const loaded: Array<{ ref: string; url: string; scenario: Scenario }> = [];
  for (const ref of refs) {
    try { loaded.push({ ref, ...(await loadScenario(ref)) }); } catch (e) { if (e instanceof ScenarioError) throw new UsageError(e.message); throw e; }
  }

  const interrupt = { stop: false };
  const onSig = (): void => { interrupt.stop = true; process.stderr.write('\nvpci-lab: interrupted; reporting what was covered\n'); };
  process.once('SIGINT', onSig);
  const pool = createPool(Math.max(...loaded.map((l) => Object.keys(l.scenario.actors).length)));
  const results: VerifyResult[] = [];
  const single = loaded.length * strategies.length === 1;
  try {
    for (const { ref, url, scenario } of loaded) {
      for (const st of strategies) {
        if (interrupt.stop) break;
        const r = await verify(pool, url, scenario, st.name, { bound, reduce: !v['no-reduce'], kinds, maxFaults, maxRuns, budgetMs, seed, shard, interrupt });
        results.push(r);
        if (single) printCell(r, ref, maxEvents, (v.html as string | undefined) ?? path.join('out', `verify-${scenario.name}-${st.name}.html`));
        else process.stderr.write(`${scenario.name} / ${st.name}: ${verdictLine(r)}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSig);
    await pool.close().catch(() => {});
  }
  if (!single && results.length > 0) {
    process.stdout.write(`verify (${boundsText(results[0])}${shard ? `; shard ${shard.index + 1}/${shard.count}` : ''}):\n${matrix(results)}\n`);
  }
  if (interrupt.stop) process.stdout.write(`interrupted: ${results.length} cell(s) covered, the last one incomplete\n`);
  if (v.json) writeJson(String(v.json), results);
  return results.some((r) => r.forbidden > 0) ? 1 : 0;
}

function printCell(r: VerifyResult, ref: string, maxEvents: number, html: string): void {
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  out(`${r.scenario} under ${r.strategy}: ${verdictLine(r)}`);
  out(`runs per preemption bound: ${r.runsByBound.join(', ')}; ${(r.runs / Math.max(1e-3, r.ms / 1000)).toFixed(0)} runs/s`);
  for (const l of outcomeLines(r)) out(l);
  const f = r.firstForbidden ?? r.firstFailure;
  if (!f) return;
  out(`\n${f.outcome} (${f.verdict} for ${r.strategy})${f.vcpu ? ` on ${f.vcpu}` : ''}${f.where ? ` in ${f.where}` : ''} with ${f.preemptions} preemption(s)`);
  if (f.message) out(`  ${f.message}`);
  out(`schedule: ${f.schedule}\nreplay:   ${replayCommand(ref, r.strategy, f.schedule)}\n\ninterleaving:`);
  const shown = maxEvents === 0 ? f.events : f.events.slice(-maxEvents);
  if (shown.length < f.events.length) out(`  ... ${f.events.length - shown.length} earlier events (see the timeline)`);
  shown.forEach((e, i) => out(`  ${String(f.events.length - shown.length + i).padStart(4)}  ${e.label}`));
  fs.mkdirSync(path.dirname(path.resolve(html)), { recursive: true });
  fs.writeFileSync(html, renderTimeline({
    title: `${r.scenario} under ${r.strategy} (verify, ${f.preemptions} preemptions)`, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule,
    replayCommand: replayCommand(ref, r.strategy, f.schedule), cpuNames: f.cpuNames, lockClasses: f.lockClasses, events: f.events,
    crash: f.crashCpu !== undefined ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  }));
  out(`timeline: ${html}`);
}

function writeJson(file: string, results: VerifyResult[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ command: 'verify', cells: results.map(cellJson) }, null, 2) + '\n');
}

function merge(list: string, json: string | undefined): number {
  const cells = new Map<string, Parameters<typeof mergeCells>[0]>();
  for (const file of list.split(',').filter(Boolean)) {
    let doc: { command?: string; cells?: unknown[] };
    try { doc = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof doc; } catch (e) { throw new UsageError(`--merge: cannot read ${file}: ${(e as Error).message.split('\n')[0]}`); }
    if (doc.command !== 'verify' || !Array.isArray(doc.cells)) throw new UsageError(`--merge: ${file} is not verify JSON`);
    for (const c of doc.cells as Array<Parameters<typeof mergeCells>[0][number]>) {
      const k = `${c.scenario}\u0000${c.strategy}`;
      cells.set(k, [...(cells.get(k) ?? []), c]);
    }
  }
  let results: VerifyResult[];
  try { results = [...cells.values()].map(mergeCells); } catch (e) { throw new UsageError((e as Error).message); }
  for (const r of results) process.stdout.write(`${r.scenario} under ${r.strategy}: ${verdictLine(r)}\n`);
  if (json) writeJson(json, results);
  return results.some((r) => r.forbidden > 0) ? 1 : 0;
}
