// `vpci-lab bench find`: time to bug. For every known bug (a scenario under the strategy it breaks) and every
// method the lab offers, how many runs and how much wall time until the bug is first seen (a crash outcome, or the
// outcome the bug names, e.g. 3e568fa9e1's stale mapping):
//
//   pct, random  controlled runs (stress/repro.ts), one search per seed, stopped when the bug is seen
//   verify       the bounded systematic search (stress/verify.ts; K = 2 preemptions, one fault of any kind),
//                stopped at the first run that shows it: deterministic, so its seeds only repeat the timing
//   free         free-running trials of the scenario's own machine and actors (no scheduler), a new trial until
//                the bug shows or the budget (default 10 s) is spent: found / not found
//
// Per method: median and p90 over the seeds, of the searches that found the bug; a search that did not find it
// within its limit counts as not found (and is listed), never as a fast one.

import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';
import { releaseMachine } from '../mem/machine.js';
import { bootMachine } from '../lab/boot.js';
import { classifyTrial } from '../lab/classify.js';
import { lockNamer } from '../lab/names.js';
import { runTrial, type TrialPool, type ActorSpec } from '../run/index.js';
import { FAULT_KINDS } from '../sched/fault.js';
import { reproduce } from './repro.js';
import { verify } from './verify.js';
import { scenarioModel, type Scenario } from '../scenario/scenario.js';
import type { ScenarioActorArg } from '../../workers/scenario-actor.js';
import { median } from '../run/rounds.js';

const ACTOR_MODULE = new URL('../../workers/scenario-actor.js', import.meta.url).href;

export const METHODS = ['pct', 'random', 'verify', 'free'] as const;
export type Method = (typeof METHODS)[number];

/**
 * A known bug: a scenario under the strategy it breaks; a historical one names its files (built-ins do not). Seen
 * when a run ends in `outcome`, or in any crash when none is named.
 */
export interface KnownBug { bug: string; scenario: string; strategy: string; outcome?: Outcome; files?: { scenario: string; strategy: string } }

const HISTORY = new URL('../../../examples/patches/history/', import.meta.url);
/** A real, fixed Xen bug: its scenario under the patch file that restores the code before the fix. */
const history = (commit: string, slug: string, outcome?: Outcome): KnownBug => ({
  bug: commit, scenario: `${commit}-${slug}`, strategy: `pre-${commit}`, ...(outcome ? { outcome } : {}),
  files: { scenario: fileURLToPath(new URL(`${commit}-${slug}.scenario.mjs`, HISTORY)), strategy: fileURLToPath(new URL(`${commit}-${slug}.mjs`, HISTORY)) },
});

/** Known bugs: crash paths 1-3 of late-2021 Xen, upstream's stale v->vpci.pdev, and the historical Xen bugs. */
export const KNOWN_BUGS: readonly KnownBug[] = [
  { bug: 'crash path 1', scenario: 'crash-path-1', strategy: 'baseline' },
  { bug: 'crash path 2', scenario: 'crash-path-2', strategy: 'baseline' },
  { bug: 'crash path 3', scenario: 'crash-path-3', strategy: 'baseline' },
  { bug: 'stale-pdev', scenario: 'stale-pdev', strategy: 'upstream' },
  history('6ccb5e308c', 'vpci-null'),
  history('ee045f3a4a', 'walk-no-vpci'),
  history('3e568fa9e1', 'guest-runs', 'stale-mapping'),
];

export interface Search { seed: number; found: boolean; runs: number; ms: number; outcome?: Outcome }
export interface FindCell {
  bug: string; scenario: string; strategy: string; method: Method; limit: string;
  searches: Search[]; found: number;
  runs: { median: number; p90: number } | null;
  ms: { median: number; p90: number } | null;
}

export interface FindOptions { seeds: number; maxRuns: number; freeMs: number; freeSeeds: number; verifyRepeats: number; log: (s: string) => void }

const isCrash = (o: Outcome): boolean => CRASH_OUTCOMES.has(o);
/** Whether a run's outcome is the bug being looked for. */
const sees = (b: KnownBug) => (o: Outcome): boolean => (b.outcome ? o === b.outcome : isCrash(o));

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

async function controlled(pool: TrialPool, url: string, s: Scenario, b: KnownBug, chooser: 'pct' | 'random', seed: number, maxRuns: number): Promise<Search> {
  const t0 = performance.now(), seen = sees(b);
  let first: Outcome | undefined;
  const r = await reproduce(pool, url, s, b.strategy, { runs: maxRuns, chooser, pctDepth: 3, seed, until: seen },
    (_run, outcome) => { if (first === undefined && seen(outcome)) first = outcome; });
  return { seed, found: first !== undefined, runs: r.runs, ms: performance.now() - t0, ...(first ? { outcome: first } : {}) };
}

async function systematic(pool: TrialPool, url: string, s: Scenario, b: KnownBug, seed: number): Promise<Search> {
  const interrupt = { stop: false }, seen = sees(b);
  let runs = 0, first: Outcome | undefined;
  const kinds = (1 << FAULT_KINDS.length) - 1;
  const r = await verify(pool, url, s, b.strategy, {
    bound: 2, reduce: true, kinds, maxFaults: 1, maxRuns: Number.MAX_SAFE_INTEGER, budgetMs: 60_000, seed, interrupt,
    onRun: (n) => { runs = n; },
    onState: (_d, _sch, outcome) => { if (first === undefined && seen(outcome)) { first = outcome; interrupt.stop = true; } },
  });
  return { seed, found: first !== undefined, runs: Math.max(runs, r.runs), ms: r.ms, ...(first ? { outcome: first } : {}) };
}

async function freeRunning(pool: TrialPool, url: string, s: Scenario, b: KnownBug, seed: number, budgetMs: number): Promise<Search> {
  const t0 = performance.now(), seen = sees(b);
  let runs = 0;
  while (performance.now() - t0 < budgetMs) {
    const { desc, actors } = scenarioModel(s, b.strategy, (seed * 7919 + runs) >>> 0);
    const { machine, world } = bootMachine(desc);
    const specs: ActorSpec[] = actors.map((a) => ({ module: ACTOR_MODULE, export: 'run', arg: { url, name: a.name, domain: a.domain, vcpu: a.vcpu, world, params: s.params } satisfies ScenarioActorArg }));
    // No worker refresh inside a timed search: it would be timed as search.
    const res = await runTrial(pool, machine, specs, { mode: 'free', budgetMs: Math.max(1000, budgetMs), hangMs: 2000, lockName: lockNamer(world), maxWorkerAgeMs: Infinity });
    runs++;
    const c = classifyTrial(res, world, actors.map((a) => a.name));
    if (res.aborted === 0) releaseMachine(machine);
    if (seen(c.outcome)) return { seed, found: true, runs, ms: performance.now() - t0, outcome: c.outcome };
  }
  return { seed, found: false, runs, ms: performance.now() - t0 };
}

function cell(b: KnownBug, method: Method, limit: string, searches: Search[]): FindCell {
  const hit = searches.filter((x) => x.found);
  const stat = (xs: number[]): { median: number; p90: number } | null => (xs.length ? { median: median(xs), p90: percentile(xs, 90) } : null);
  return { ...b, method, limit, searches, found: hit.length, runs: stat(hit.map((x) => x.runs)), ms: stat(hit.map((x) => x.ms)) };
}

export interface FindReport { cores: number; node: string; load: { start: number[]; end: number[] }; options: Omit<FindOptions, 'log'>; cells: FindCell[] }

export async function benchFind(pool: TrialPool, bugs: ReadonlyArray<{ b: KnownBug; url: string; s: Scenario }>, methods: readonly Method[], o: FindOptions): Promise<FindReport> {
  const start = loadavg();
  const cells: FindCell[] = [];
  for (const { b, url, s } of bugs) {
    for (const m of methods) {
      const searches: Search[] = [];
      const n = m === 'verify' ? o.verifyRepeats : m === 'free' ? o.freeSeeds : o.seeds;
      for (let seed = 1; seed <= n; seed++) {
        if (m === 'pct' || m === 'random') searches.push(await controlled(pool, url, s, b, m, seed, o.maxRuns));
        else if (m === 'verify') searches.push(await systematic(pool, url, s, b, seed));
        else searches.push(await freeRunning(pool, url, s, b, seed, o.freeMs));
      }
      const limit = m === 'verify' ? 'K=2, faults<=1' : m === 'free' ? `${o.freeMs / 1000} s` : `${o.maxRuns} runs`;
      const c = cell(b, m, limit, searches);
      cells.push(c);
      o.log(`${b.bug} (${b.scenario} / ${b.strategy}) ${m}: found ${c.found}/${searches.length}` +
        (c.runs && c.ms ? `, runs median ${c.runs.median} p90 ${c.runs.p90}, ms median ${c.ms.median.toFixed(0)} p90 ${c.ms.p90.toFixed(0)}` : ''));
    }
  }
  const { log: _log, ...options } = o;
  return { cores: availableParallelism(), node: process.version, load: { start, end: loadavg() }, options, cells };
}

export function formatFind(r: FindReport): string {
  const head = ['bug', 'scenario / strategy', 'method', 'found', 'runs median', 'runs p90', 'time median', 'time p90', 'limit'];
  const fmtMs = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
  const rows = r.cells.map((c) => [c.bug, `${c.scenario} / ${c.strategy}`, c.method, `${c.found}/${c.searches.length}`,
    c.runs ? String(c.runs.median) : '-', c.runs ? String(c.runs.p90) : '-', c.ms ? fmtMs(c.ms.median) : '-', c.ms ? fmtMs(c.ms.p90) : '-', c.limit]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const fmt = (cells: string[]): string => cells.map((s, i) => (i >= 3 && i <= 7 ? s.padStart(w[i]) : s.padEnd(w[i]))).join('  ');
  const lines = [`vpci-lab bench find — time to bug; ${r.cores} cores, node ${r.node}; load average ${r.load.start[0].toFixed(1)} at start, ${r.load.end[0].toFixed(1)} at end`,
    fmt(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(fmt), '',
    'goals: PCT median <= 20 runs; verify <= 1 s; free-running: found / not found within the budget'];
  for (const c of r.cells) {
    if (c.method === 'pct' && c.runs) lines.push(`  ${c.runs.median <= 20 ? 'met    ' : 'NOT MET'}  ${c.bug}: PCT median ${c.runs.median} runs`);
    if (c.method === 'pct' && !c.runs) lines.push(`  NOT MET  ${c.bug}: PCT never found it`);
    if (c.method === 'verify') lines.push(`  ${c.ms && c.ms.median <= 1000 && c.found === c.searches.length ? 'met    ' : 'NOT MET'}  ${c.bug}: verify ${c.ms ? fmtMs(c.ms.median) : 'did not find it'}`);
    if (c.method === 'free') lines.push(`  ${c.found ? 'found  ' : 'not found'}  ${c.bug}: free-running, ${c.found}/${c.searches.length} searches within ${c.limit}`);
  }
  return lines.join('\n');
}
