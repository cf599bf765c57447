// The hunt: generate a program, run it under PCT (and, if asked, verify it within a small preemption bound), and
// on a forbidden outcome shrink it, reduce its schedule, group it, and write it out as a scenario file that is then
// replayed once from disk to check it fails the same way.

import fc from 'fast-check';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TrialPool } from '../../run/index.js';
import type { Outcome } from '../../mem/crash.js';
import { loadScenario } from '../../scenario/scenario.js';
import { reproduce, type RunFailure } from '../repro.js';
import { programArb } from './generate.js';
import { actionCount, type DomuPolicy, type Program } from './program.js';
import { pctExplorer, verifyExplorer } from './run.js';
import { shrinkProgram, type ShrinkContext } from './shrink.js';
import { reduceSchedule, switches, type ReducedSchedule } from './schedule.js';
import { groupOf, groupKey, matches, type Group, type KnownGroup } from './dedup.js';
import { writeFinding } from './write.js';

export interface HuntOptions {
  strategy: string; budgetMs: number; seed: number; runsPerProgram: number; pctDepth: number;
  out: string; known: KnownGroup[]; domu: DomuPolicy;
  /** The number of the first finding file (default 1): after the ones `out` already holds, which stay. */
  firstId?: number;
  /** Also verify every program PCT found nothing in, with this preemption bound (undefined: not at all). */
  verifyBound?: number;
  /** The command line, written into each finding, and the --strategy text a replay command should repeat. */
  command: string; replayStrategy?: string;
}

export interface HuntFinding {
  id: number; file: string; group: Group; key: string; outcome: Outcome; where: string; vcpu: string; message: string;
  schedule: string; reduced: Omit<ReducedSchedule, 'failure'>; vcpus: number; actions: number;
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
const bump = (r: Record<string, number>, k: string): void => { r[k] = (r[k] ?? 0) + 1; };

export async function hunt(pool: TrialPool, o: HuntOptions, hooks: HuntHooks = {}): Promise<HuntState> {
  const t0 = performance.now();
  const s: HuntState = { programs: 0, runs: 0, elapsedMs: 0, findings: [], duplicates: {}, known: {}, status: 'generating', interrupted: false };
  const stop = (): boolean => {
    s.elapsedMs = performance.now() - t0;
    if (hooks.shouldStop?.(s)) s.interrupted = true;
    return s.interrupted || s.elapsedMs >= o.budgetMs;
  };
  const arb = programArb({ domu: o.domu });
  const mrng = new fc.Random(xoroshiro128plus(o.seed));
  const ctx: ShrinkContext = { pool, strategy: o.strategy, runs: o.runsPerProgram * 2, seed: o.seed, pctDepth: o.pctDepth, policy: o.domu, stop, onRuns: (n) => { s.runs += n; hooks.onProgress?.(s); } };
  while (!stop()) {
    s.status = 'generating';
    const v = arb.generate(mrng, undefined);
    const index = s.programs++;
    const seed = (Math.imul(o.seed, 1_000_003) + Math.imul(index, 0x9e3779b1)) >>> 0;
    const run = { runs: o.runsPerProgram, seed, pctDepth: o.pctDepth };
    let r = await pctExplorer.explore(pool, v.value, o.strategy, run);
    s.runs += r.runs;
    if (!r.failure && o.verifyBound !== undefined && !stop()) { r = await verifyExplorer(o.verifyBound, stop).explore(pool, v.value, o.strategy, run); s.runs += r.runs; }
    hooks.onProgress?.(s);
    if (r.failure) await found(pool, o, s, hooks, arb, v, r.failure, { ...ctx, seed }, index, t0);
  }
  s.elapsedMs = performance.now() - t0;
  s.status = 'done';
  return s;
}

/** One failing program: known or found before? Else shrink, reduce the schedule, group, write, replay, report. */
async function found(pool: TrialPool, o: HuntOptions, s: HuntState, hooks: HuntHooks, arb: fc.Arbitrary<Program>, v: fc.Value<Program>,
  first: RunFailure, ctx: ShrinkContext, index: number, t0: number): Promise<void> {
  const knownHit = (g: Group): KnownGroup | undefined => o.known.find((k) => matches(k, g));
  const raw = groupOf(first);
  const k0 = knownHit(raw), f0 = s.findings.find((f) => matches(f.group, raw));
  if (k0) { bump(s.known, knownName(k0)); return; }
  if (f0) { bump(s.duplicates, f0.key); return; }
  s.status = `shrinking a ${first.outcome} in ${first.where || '?'}`;
  const shrunk = await shrinkProgram(arb, v, first, ctx);
  s.status = `reducing the schedule of a ${first.outcome}`;
  const reduced = await reduceSchedule(shrunk.program, shrunk.failure, { ...ctx, stop: () => s.interrupted });
  const f: RunFailure = reduced?.failure ?? shrunk.failure;
  const group = groupOf(f), key = groupKey(group);
  const k1 = knownHit(group);
  if (k1) { bump(s.known, knownName(k1)); return; }
  if (s.findings.some((x) => x.key === key)) { bump(s.duplicates, key); return; }
  const id = (o.firstId ?? 1) + s.findings.length;
  const how = reduced ? { method: reduced.method, preemptions: reduced.preemptions, depth: reduced.depth, switches: reduced.switches } : { method: 'pct' as const, depth: o.pctDepth, switches: switches(f.schedule) };
  const original = { vcpus: v.value.vcpus.length, actions: actionCount(v.value) };
  const file = writeFinding(o.out, shrunk.program, { id, strategy: o.replayStrategy ?? o.strategy, failure: f, group, reduced: how, command: o.command, original, shrinkSteps: shrunk.steps });
  const finding: HuntFinding = {
    id, file, group, key, outcome: f.outcome, where: f.where, vcpu: f.vcpu, message: f.message, schedule: f.schedule, reduced: how,
    vcpus: shrunk.program.vcpus.length, actions: actionCount(shrunk.program), original, program: shrunk.program,
    atMs: performance.now() - t0, programIndex: index, replayed: await replays(pool, file, o.strategy, f),
  };
  s.findings.push(finding);
  hooks.onFinding?.(finding, s);
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
