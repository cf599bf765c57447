// The hunt: generate a program, run it under PCT, and on a forbidden outcome shrink it, reduce its schedule, group
// it, and write it out as a scenario file that is then replayed once from disk to check it fails the same way.

import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TrialPool } from '../../lib/run/index.js';
import type { Outcome } from '../../lib/mem/crash.js';
import { loadScenario } from '../scenario.js';
import { reproduce, type RunFailure } from '../repro.js';
import { programArb } from './generate.js';
import { actionCount, type DomuPolicy, type Program } from './program.js';
import { pctExplorer } from './run.js';
import { shrinkProgram, minimalSchedule, switches, type ShrinkContext } from './shrink.js';
import { groupOf, groupKey, matches, type Group, type KnownGroup } from './dedup.js';
import { writeFinding } from './write.js';

export interface HuntOptions {
  strategy: string; budgetMs: number; seed: number; runsPerProgram: number; pctDepth: number;
  out: string; known: KnownGroup[]; domu: DomuPolicy;
  /** The command line, written into each finding, and the --strategy text a replay command should repeat. */
  command: string; replayStrategy?: string;
}

export interface HuntFinding {
  id: number; file: string; group: Group; key: string; outcome: Outcome; where: string; vcpu: string; message: string;
  schedule: string; depth: number; switches: number; vcpus: number; actions: number;
  original: { vcpus: number; actions: number }; program: Program; atMs: number; programIndex: number;
  /** The file, loaded from disk and replayed with the schedule, ended in the same outcome. */
  replayed: boolean;
}

export interface HuntState {
  programs: number; runs: number; elapsedMs: number; findings: HuntFinding[];
  /** Failures that fell into a group already found (before or after shrinking), and into a --known group. */
  duplicates: Record<string, number>; known: Record<string, number>;
  status: string; interrupted: boolean;
}

export interface HuntHooks {
  /** Ctrl-C or a caller's own stop condition. */
  shouldStop?(s: HuntState): boolean;
  onProgress?(s: HuntState): void;
  onFinding?(f: HuntFinding, s: HuntState): void;
}

const knownName = (k: KnownGroup): string => k.name ?? `${k.outcome}${k.where ? ` in ${k.where}` : ''}${k.sites?.length ? `: ${k.sites.join(' > ')}` : ''}`;

export async function hunt(pool: TrialPool, o: HuntOptions, hooks: HuntHooks = {}): Promise<HuntState> {
  const t0 = performance.now();
  const s: HuntState = { programs: 0, runs: 0, elapsedMs: 0, findings: [], duplicates: {}, known: {}, status: 'generating', interrupted: false };
  const deadline = t0 + o.budgetMs;
  const stop = (): boolean => {
    s.elapsedMs = performance.now() - t0;
    if (hooks.shouldStop?.(s)) s.interrupted = true;
    return s.interrupted || performance.now() >= deadline;
  };
  const arb = programArb({ domu: o.domu });
  const mrng = new fc.Random(xoroshiro128plus(o.seed));
  const ctx: ShrinkContext = { pool, strategy: o.strategy, runs: o.runsPerProgram * 2, seed: o.seed, pctDepth: o.pctDepth, policy: o.domu, stop, onRuns: (n) => { s.runs += n; hooks.onProgress?.(s); } };
  const knownHit = (g: Group): KnownGroup | undefined => o.known.find((k) => matches(k, g));
  const foundHit = (g: Group): HuntFinding | undefined => s.findings.find((f) => matches(f.group, g));

  while (!stop()) {
    s.status = 'generating';
    const v = arb.generate(mrng, undefined);
    const index = s.programs++;
    const seed = (Math.imul(o.seed, 1_000_003) + Math.imul(index, 0x9e3779b1)) >>> 0;
    const r = await pctExplorer.explore(pool, v.value, o.strategy, { runs: o.runsPerProgram, seed, pctDepth: o.pctDepth });
    s.runs += r.runs;
    hooks.onProgress?.(s);
    if (!r.failure) continue;
    const raw = groupOf(r.failure);
    const k0 = knownHit(raw), f0 = foundHit(raw);
    if (k0) { s.known[knownName(k0)] = (s.known[knownName(k0)] ?? 0) + 1; continue; }
    if (f0) { s.duplicates[f0.key] = (s.duplicates[f0.key] ?? 0) + 1; continue; }

    s.status = `shrinking a ${r.failure.outcome} in ${r.failure.where || '?'}`;
    const sctx = { ...ctx, seed };
    const shrunk = await shrinkProgram(arb, v, r.failure, sctx);
    s.status = `reducing the schedule of a ${r.failure.outcome}`;
    const sched = await minimalSchedule(shrunk.program, shrunk.failure, { ...sctx, stop: () => s.interrupted });
    const f: RunFailure = sched?.failure ?? shrunk.failure;
    const group = groupOf(f), key = groupKey(group);
    const k1 = knownHit(group);
    if (k1) { s.known[knownName(k1)] = (s.known[knownName(k1)] ?? 0) + 1; continue; }
    const dup = s.findings.find((x) => x.key === key);
    if (dup) { s.duplicates[key] = (s.duplicates[key] ?? 0) + 1; continue; }
    const id = s.findings.length + 1;
    const meta = {
      id, strategy: o.replayStrategy ?? o.strategy, failure: f, group, depth: sched?.depth ?? o.pctDepth, switches: sched?.switches ?? switches(f.schedule),
      command: o.command, original: { vcpus: v.value.vcpus.length, actions: actionCount(v.value) }, shrinkSteps: shrunk.steps,
    };
    const file = writeFinding(o.out, shrunk.program, meta);
    const finding: HuntFinding = {
      id, file, group, key, outcome: f.outcome, where: f.where, vcpu: f.vcpu, message: f.message, schedule: f.schedule,
      depth: meta.depth, switches: meta.switches, vcpus: shrunk.program.vcpus.length, actions: actionCount(shrunk.program),
      original: meta.original, program: shrunk.program, atMs: performance.now() - t0, programIndex: index,
      replayed: await replays(pool, file, o.strategy, f),
    };
    s.findings.push(finding);
    hooks.onFinding?.(finding, s);
  }
  s.elapsedMs = performance.now() - t0;
  s.status = 'done';
  return s;
}

/** Load the written file as any user scenario and replay its schedule: the outcome and function must repeat. */
export async function replays(pool: TrialPool, file: string, strategy: string, f: RunFailure): Promise<boolean> {
  try {
    const { url, scenario } = await loadScenario(file);
    const r = await reproduce(pool, url, scenario, strategy, { runs: 1, chooser: 'pct', pctDepth: 1, seed: 0, schedule: f.schedule });
    return r.firstFailure?.outcome === f.outcome && r.firstFailure.where === f.where;
  } catch {
    return false;
  }
}
