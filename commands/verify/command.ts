// vpci-lab verify: every schedule within a preemption bound and every fault placement within a budget, with
// partial-order reduction — a verdict within bounds, not a sample.

import fs from 'node:fs';
import path from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { UsageError, nameList } from '../../cli/args.js';
import { parseCommand, string, int, flag, duration, outFile } from '../../cli/options.js';
import { exitCode } from '../../cli/exit.js';
import { onStop } from '../../cli/signals.js';
import { readDistinct, checkShards } from '../../cli/inputs.js';
import { Outputs, defaultOut, defaultOutText } from '../../cli/output.js';
import { shardOptions, shardOf, backendOptions } from '../../cli/common-options.js';
import { resolveBackend, judgeAs, cReplay, cReplayOptions, defaultJudge, type BackendValues } from '../../cli/backend.js';
import { provenanceLine, type CBackend } from '../../lib/cxen/select.js';
import { junitXml, unfinished } from '../../report/junit.js';
import { renderReport } from '../../report/html/html.js';
import { verifyReport, verifyJunitCells } from '../../report/html/from-verify.js';
import { parseStrategies } from '../../lib/strategy/index.js';
import { createPool, type TrialPool } from '../../lib/run/index.js';
import { FAULT_KINDS } from '../../lib/sched/fault.js';
import { futexStatus } from '../../lib/sched/futex.js';
import { BUILTIN_SCENARIOS, loadScenario, ScenarioError, type Scenario } from '../../lib/scenario/scenario.js';
import { verify, type VerifyResult } from '../../lib/explore/verify.js';
import { verdictLine, outcomeLines, matrix, cellJson, mergeCells, boundsText, MATRIX_KEY } from '../../report/verify-text.js';
import { replayFor } from '../../report/replay.js';
import { renderTimeline } from '../../report/timeline.js';
import { knownBugOf, provenance, knownLegend } from '../../report/known-bugs.js';
import { runJobs } from '../../lib/explore/verify-jobs.js';

const SPEC = {
  usage: 'verify [SCENARIO|PATH|LIST|all] --strategy NAME|LIST|all [options]',
  description: `Search every schedule with at most K preemptions, and every placement of at most F faults, of a race scenario
(default: all built-in) under a strategy, on the real threads with controlled scheduling; partial-order reduction
skips schedules that only reorder independent steps. Verdicts: verified (no failing run within the bounds),
refuted (a failing run, the first one found having the fewest preemptions, with its schedule string and timeline),
incomplete (cut short by --max-runs, --budget or Ctrl-C: never verified). Exit 1 when an outcome the scenario
forbids for the strategy is reachable, 0 otherwise, 2 for bad input, 130 when interrupted (Ctrl-C), 143 on SIGTERM.`,
  positionals: { min: 0, max: 1, what: 'verify wants at most one scenario argument (a name, a path, a comma list or all)' },
  options: {
    strategy: string('strategy, comma list or all', { arg: 'NAME|LIST' }),
    preemptions: string('preemption bound K, or all for none; searched K = 0, 1, ... in turn', { default: '2', arg: 'K', check: checkBound }),
    faults: string(`fault kinds that branch (${FAULT_KINDS.join(',')}); default none`, { arg: 'LIST', check: (v, f) => { parseKinds(v, f); } }),
    'max-faults': int('faults per run', { default: 1, max: 64 }),
    'no-reduce': flag('no partial-order reduction: every schedule within the bound'),
    'no-sleep': flag('partial-order reduction without sleep sets (DPOR alone)'),
    'max-runs': int('stop each cell after N runs (verdict: incomplete)', { min: 1 }),
    budget: duration('stop each cell after this long (verdict: incomplete)'),
    ...shardOptions,
    ...backendOptions,
    merge: string('merge shard JSON files (comma-separated) into one verdict per cell, run nothing', { arg: 'FILES' }),
    seed: int('model seed', { default: 1, max: 2 ** 31 - 1 }),
    jobs: int('child processes: cells from a queue, or one cell in 3N shards merged (--max-runs and --budget then apply per shard)', { default: 1, min: 1, max: 64 }),
    events: int('interleaving lines to print, 0 = all', { default: 60 }),
    json: outFile('write every cell\'s result'),
    html: outFile('timeline of the first failure (one cell; default out/verify-<scenario>-<strategy>-<date-time>-<pid>.html)'),
    report: outFile('the HTML report of every cell: the matrix coloured by verdict, each failing cell\'s timeline', { default: defaultOut('verify'), defaultText: defaultOutText('verify') }),
    junit: outFile('write JUnit XML: a test case per scenario x strategy, a failure per forbidden outcome reachable'),
  },
};

function checkBound(v: string, flagName: string): void {
  if (v !== 'all' && !/^\d{1,2}$/.test(v)) throw new UsageError(`${flagName} wants a whole number >= 0 or all, got '${v}'`);
}

function parseKinds(v: string | undefined, flagName = '--faults'): number {
  if (v === undefined || v === 'none') return 0;
  let m = 0;
  for (const k of nameList(v, flagName)) {
    const i = (FAULT_KINDS as readonly string[]).indexOf(k);
    if (i < 0) throw new UsageError(`${flagName}: unknown fault kind '${k}' (known: ${FAULT_KINDS.join(', ')})`);
    m |= 1 << i;
  }
  return m;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const { values: v, positionals } = args;
  if (v.merge !== undefined) return merge(v.merge, v);
  const bound = v.preemptions === 'all' ? Infinity : Number(v.preemptions);
  const kinds = parseKinds(v.faults);
  const maxFaults = v['max-faults'];
  const maxRuns = v['max-runs'] ?? Number.MAX_SAFE_INTEGER;
  const budgetMs = v.budget ?? Infinity;
  const engineShard = shardOf(v);
  const shard = engineShard && { index: engineShard.index, count: engineShard.count };
  const { seed } = v;
  const maxEvents = v.events;
  // Scenarios load before --backend c compiles its tree: a misspelt name is refused at once.
  const refs = (positionals[0] ?? 'all') === 'all' ? [...BUILTIN_SCENARIOS] : nameList(positionals[0], 'verify\'s scenario list');
  const loaded: Array<{ ref: string; url: string; scenario: Scenario }> = [];
  for (const ref of refs) {
    try { loaded.push(await loadScenario(ref)); } catch (e) { if (e instanceof ScenarioError) throw new UsageError(e.message); throw e; }
  }
  const c = await resolveBackend(v);
  if (!v.strategy && !c) throw new UsageError('verify needs --strategy (a name, a comma list or all)');
  const as = v.strategy ?? (c ? defaultJudge(c) : 'baseline');
  if (c && as.includes(',')) throw new UsageError('with --backend c, --strategy names the one TypeScript strategy the build is judged as');
  let strategies;
  try { strategies = c ? [c.strategy] : await parseStrategies(as); } catch (e) { throw new UsageError((e as Error).message); }

  if (c) for (const l of loaded) judgeAs(l.scenario, c.strategy.name, as);
  // With the C backend each child compiles (a cache lookup) and judges the build as `as`, as this process would.
  if (v.jobs > 1 && !shard) {
    futexStatus(); // a missing futex addon is noted once, here, not by each child (lib/sched/futex.ts sayOff)
    return runParallel(loaded, c ? [as] : strategies.map((s) => s.name), argv, v.jobs, { ...v, xen: c?.provenance }, c && { v, as });
  }
  const interrupt = { stop: false };
  const offStop = onStop((sig) => { interrupt.stop = true; process.stderr.write(`\nvpci-lab: ${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}; reporting what was covered\n`); });
  const pool = poolFor(threadsOf(loaded));
  const results: VerifyResult[] = [];
  const single = loaded.length * strategies.length === 1;
  try {
    for (const { ref, url, scenario } of loaded) {
      for (const st of strategies) {
        if (interrupt.stop) break;
        const r = await verify(pool, url, scenario, st.name, { bound, reduce: !v['no-reduce'], sleep: !v['no-sleep'], kinds, maxFaults, maxRuns, budgetMs, seed, shard, interrupt });
        if (c) Object.assign(r, { strategyRef: as, replayOptions: cReplayOptions(v) });   // reports' replay lines rebuild the C
        results.push(r);
        if (single) printCell(r, ref, maxEvents, v.html ?? defaultOut(`verify-${scenario.name}-${st.name}`), c ? { v, as } : undefined);
        else process.stderr.write(`${scenario.name} / ${st.name}: ${verdictLine(r)}\n`);
      }
    }
  } finally {
    offStop();
    if (!warm) await pool.close().catch(() => {});
  }
  if (!single && results.length > 0) {
    process.stdout.write(`verify (${boundsText(results[0])}${shard ? `; shard ${shard.index + 1}/${shard.count}` : ''}):\n${matrix(results)}\n${MATRIX_KEY}\n`);
  }
  if (interrupt.stop) process.stdout.write(`interrupted: ${results.length} cell(s) covered, the last one incomplete\n`);
  const out = writeOutputs(results, { ...v, xen: c?.provenance }, interrupt.stop ? { scenarios: loaded.map((l) => l.scenario.name), strategies: strategies.map((s) => s.name) } : undefined,
    Object.fromEntries(loaded.map((l) => [l.scenario.name, l.scenario.description ?? ''])));
  return exitCode({ forbidden: results.reduce((n, r) => n + r.forbidden, 0), interrupted: interrupt.stop, writeFailures: out.failed.length });
}

/** The most threads (one per actor) any of the scenarios runs. */
const threadsOf = (loaded: Array<{ scenario: Scenario }>): number => Math.max(...loaded.map((l) => Object.keys(l.scenario.actors).length));

/** serve.ts: the pool outlives one run of the command, for the next job of a --jobs child. */
let warm: { pool?: TrialPool; threads: number } | undefined;

/** Keep one pool between runs of this command (serve.ts), of at least `threads` workers; the function returned closes it. */
export function keepPoolWarm(threads = 0): () => Promise<void> {
  warm = { threads };
  return async () => { const p = warm?.pool; warm = undefined; await p?.close().catch(() => {}); };
}

function poolFor(threads: number): TrialPool {
  if (!warm) return createPool(threads);
  if (!warm.pool || warm.pool.threads < threads) {
    void warm.pool?.close().catch(() => {});
    warm.pool = createPool(Math.max(threads, warm.threads));
  }
  warm.pool.stepEstimate = 0; // as a fresh pool: no run length carried over from another job
  return warm.pool;
}

function printCell(r: VerifyResult, ref: string, maxEvents: number, html: string, c?: { v: BackendValues; as: string }): void {
  const out = (s: string): boolean => process.stdout.write(s + '\n');
  out(`${r.scenario} under ${r.strategy}: ${verdictLine(r)}`);
  out(`runs per preemption bound: ${r.runsByBound.join(', ')}; ${(r.runs / Math.max(1e-3, r.ms / 1000)).toFixed(0)} runs/s`);
  for (const l of outcomeLines(r)) out(l);
  const f = r.firstForbidden ?? r.firstFailure;
  if (!f) return;
  out(`\n${f.outcome} (${f.verdict} for ${r.strategy})${f.vcpu ? ` on ${f.vcpu}` : ''}${f.where ? ` in ${f.where}` : ''} with ${f.preemptions} preemption(s): ${provenance(r.strategy, f)}`);
  const k = knownBugOf(r.strategy, f);
  if (k) out(`  ${knownLegend([k])[0]}`);
  if (f.message) out(`  ${f.message}`);
  out(`schedule: ${f.schedule}\nreplay:   ${c ? cReplay(ref, c.v, c.as, f.schedule) : replayFor(r, f.schedule)}\n\ninterleaving:`);
  const shown = maxEvents === 0 ? f.events : f.events.slice(-maxEvents);
  if (shown.length < f.events.length) out(`  ... ${f.events.length - shown.length} earlier events (see the timeline)`);
  shown.forEach((e, i) => out(`  ${String(f.events.length - shown.length + i).padStart(4)}  ${e.label}`));
  fs.mkdirSync(path.dirname(path.resolve(html)), { recursive: true });
  fs.writeFileSync(html, renderTimeline({
    title: `${r.scenario} under ${r.strategy} (verify, ${f.preemptions} preemptions)`, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule,
    replayCommand: replayFor(r, f.schedule), cpuNames: f.cpuNames, lockClasses: f.lockClasses, events: f.events,
    crash: f.crashCpu !== undefined ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  }));
  out(`timeline: ${html}`);
}

/** --jobs: the same search in child processes (stress/verify-jobs.ts), reported like --merge. */
async function runParallel(loaded: Array<{ ref: string; scenario: Scenario }>, strategies: string[], argv: string[], jobs: number, v: { json?: string; report?: string; junit?: string; xen?: unknown },
  c?: { v: BackendValues; as: string }): Promise<number> {
  const keep = ['preemptions', 'faults', 'max-faults', 'max-runs', 'budget', 'seed', 'backend', 'xen-src', 'patch'];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    if (m[1] === 'no-reduce') args.push('--no-reduce');
    else if (keep.includes(m[1])) args.push(`--${m[1]}`, m[2] ?? argv[++i]);
  }
  const cells = loaded.flatMap((l) => strategies.map((st) => ({ scenario: l.ref, strategy: st })));
  const n = 3 * jobs;
  const list = cells.length === 1 ? Array.from({ length: n }, (_, k) => ({ ...cells[0], shard: `${k + 1}/${n}` })) : cells;
  const interrupt = { stop: false };
  const offStop = onStop(() => { interrupt.stop = true; });
  let results: VerifyResult[];
  try { results = await runJobs(list, args, jobs, interrupt, threadsOf(loaded)); } finally { offStop(); }
  if (c) for (const r of results) Object.assign(r, { strategyRef: c.as, replayOptions: cReplayOptions(c.v) });
  for (const r of results) {
    process.stdout.write(`${r.scenario} under ${r.strategy}: ${verdictLine(r)}\n`);
    if (cells.length === 1) for (const l of outcomeLines(r)) process.stdout.write(l + '\n');
    const f = r.firstForbidden ?? r.firstFailure;
    if (cells.length === 1 && f) process.stdout.write(`replay:   ${c ? cReplay(loaded[0].ref, c.v, c.as, f.schedule) : replayFor({ ...r, scenarioRef: loaded[0].ref }, f.schedule)}\n`);
  }
  if (cells.length > 1 && results.length > 0) process.stdout.write(`verify (${boundsText(results[0])}; ${jobs} jobs):\n${matrix(results)}\n${MATRIX_KEY}\n`);
  const out = writeOutputs(results, v);
  return exitCode({ forbidden: results.reduce((k, r) => k + r.forbidden, 0), interrupted: interrupt.stop, writeFailures: out.failed.length });
}

/** The load average when the command started: the JSON says how busy the machine was. */
const loadAtStart = loadavg();

/** --json, the HTML report and JUnit, after the results are printed: a failed write is reported, not thrown. */
function writeOutputs(results: VerifyResult[], v: { json?: string; report?: string; junit?: string; xen?: unknown }, planned?: { scenarios: string[]; strategies: string[] }, descriptions: Record<string, string> = {}): Outputs {
  const out = new Outputs();
  // With --backend c, `xen` says exactly which Xen ran: version, tree, compiled files' hashes, patches.
  if (v.json) out.write(v.json, () => JSON.stringify({ command: 'verify', cores: availableParallelism(), load: { start: loadAtStart, end: loadavg() }, ...(v.xen ? { xen: v.xen } : {}), cells: results.map(cellJson) }, null, 2) + '\n');
  if (v.report && results.length && out.write(v.report, () => renderReport(verifyReport(results, 'vpci-lab verify', descriptions, { start: loadAtStart, end: loadavg() }, v.xen ? provenanceLine(v.xen as CBackend['provenance']) : undefined)))) process.stdout.write(`report: ${v.report}\n`);
  const skips = planned ? unfinished(planned.scenarios, planned.strategies, results, 'not searched: the run was interrupted') : [];
  if (v.junit) out.write(v.junit, () => junitXml('verify', verifyJunitCells(results), skips));
  return out;
}

function merge(list: string, v: { json?: string; report?: string; junit?: string }): number {
  const cells = new Map<string, Array<{ file: string; cell: Parameters<typeof mergeCells>[0][number] }>>();
  for (const { file, text } of readDistinct(nameList(list, '--merge'), '--merge')) {
    let doc: { command?: string; cells?: unknown[] };
    try { doc = JSON.parse(text) as typeof doc; } catch (e) { throw new UsageError(`--merge: cannot read ${file}: ${(e as Error).message.split('\n')[0]}`); }
    if (doc.command !== 'verify' || !Array.isArray(doc.cells)) throw new UsageError(`--merge: ${file} is not verify JSON`);
    for (const c of doc.cells as Array<Parameters<typeof mergeCells>[0][number]>) {
      const k = `${c.scenario}\u0000${c.strategy}`;
      cells.set(k, [...(cells.get(k) ?? []), { file, cell: c }]);
    }
  }
  // One search is deterministic: the same cell searched twice, or a whole search beside its shards, is counted twice.
  for (const cs of cells.values()) {
    const plain = cs.filter((c) => !c.cell.shard);
    if (plain.length > 1) throw new UsageError(`--merge: ${cs[0].cell.scenario}/${cs[0].cell.strategy} is searched whole in both ${plain[0].file} and ${plain[1].file}: its runs would count twice`);
    checkShards('--merge', `${cs[0].cell.scenario}/${cs[0].cell.strategy} search`, cs.map((c) => ({ file: c.file, shard: c.cell.shard })), true);
  }
  let results: VerifyResult[];
  try { results = [...cells.values()].map((cs) => mergeCells(cs.map((c) => c.cell))); } catch (e) { throw new UsageError((e as Error).message); }
  for (const r of results) process.stdout.write(`${r.scenario} under ${r.strategy}: ${verdictLine(r)}\n`);
  const out = writeOutputs(results, v);
  return exitCode({ forbidden: results.reduce((n, r) => n + r.forbidden, 0), writeFailures: out.failed.length });
}
