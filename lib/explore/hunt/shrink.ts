// Shrinking a failing program (its schedule is reduced afterwards, in schedule.ts). The program is shrunk greedily
// with fast-check's own shrinkers (first candidate that still fails wins, then shrink again from it): array
// shrinking drops vCPUs and actions, constantFrom shrinking simplifies values. "Still fails" means a forbidden
// outcome in the same function within the given number of PCT runs.

import fc from 'fast-check';
import type { TrialPool } from '../../run/index.js';
import type { RunFailure } from '../repro.js';
import { illegal, domainOf, type DomuPolicy, type Program } from './program.js';
import { runProgram } from './run.js';
import { groupOf, type FailureLike } from './dedup.js';

export interface ShrinkContext {
  pool: TrialPool; strategy: string; runs: number; seed: number; pctDepth: number; policy: DomuPolicy;
  /** True once the budget is spent or the user pressed Ctrl-C: return the best so far. */
  stop(): boolean;
  /** Controlled runs done, for the progress line. */
  onRuns?(n: number): void;
}

export interface Shrunk { program: Program; failure: RunFailure; steps: number; tried: number }

export const sameBug = (a: FailureLike, b: FailureLike): boolean => a.outcome === b.outcome && groupOf(a).where === groupOf(b).where;

export async function failsLike(ctx: ShrinkContext, p: Program, target: RunFailure, o: { runs: number; seed: number; pctDepth: number }): Promise<RunFailure | null> {
  const r = await runProgram(ctx.pool, p, ctx.strategy, o);
  ctx.onRuns?.(r.runs);
  return r.surprise && sameBug(r.surprise, target) ? r.surprise : null;
}

export async function shrinkProgram(arb: fc.Arbitrary<Program>, start: fc.Value<Program>, first: RunFailure, ctx: ShrinkContext, maxTries = 400): Promise<Shrunk> {
  const viaFc = await shrinkWithFastCheck(arb, start, first, ctx, maxTries);
  const direct = await deleteActions(viaFc.program, viaFc.failure, ctx, maxTries - viaFc.tried);
  return { program: direct.program, failure: direct.failure, steps: viaFc.steps + direct.steps, tried: viaFc.tried + direct.tried };
}

async function shrinkWithFastCheck(arb: fc.Arbitrary<Program>, start: fc.Value<Program>, first: RunFailure, ctx: ShrinkContext, maxTries: number): Promise<Shrunk> {
  let cur = start, failure = first, steps = 0, tried = 0;
  const seen = new Set<string>([JSON.stringify(start.value)]);
  for (let progress = true; progress && !ctx.stop() && tried < maxTries;) {
    progress = false;
    for (const cand of arb.shrink(cur.value, cur.context)) {
      if (ctx.stop() || tried >= maxTries) break;
      const key = JSON.stringify(cand.value);
      if (seen.has(key)) continue;
      seen.add(key);
      tried++;
      const f = await failsLike(ctx, cand.value, first, ctx);
      if (f) { cur = cand; failure = f; steps++; progress = true; break; }
    }
  }
  return { program: cur.value, failure, steps, tried };
}

/**
 * fast-check shrinks the raw program, and a raw shrink can lose an action only together with everything legalize()
 * derived from it; a last pass deletes single actions of the legal program itself, keeping only legal results.
 */
async function deleteActions(p: Program, first: RunFailure, ctx: ShrinkContext, maxTries: number): Promise<Shrunk> {
  let cur = p, failure = first, steps = 0, tried = 0;
  for (let progress = true; progress && !ctx.stop() && tried < maxTries;) {
    progress = false;
    for (const cand of deletions(cur)) {
      if (ctx.stop() || tried >= maxTries) break;
      if (illegal(cand, ctx.policy).length) continue;
      tried++;
      const f = await failsLike(ctx, cand, first, ctx);
      if (f) { cur = cand; failure = f; steps++; progress = true; break; }
    }
  }
  return { program: cur, failure, steps, tried };
}

function* deletions(p: Program): Generator<Program> {
  for (let v = 0; v < p.vcpus.length; v++) {
    for (let i = 0; i < p.vcpus[v].actions.length; i++) {
      const actions = p.vcpus[v].actions.filter((_, j) => j !== i);
      const vcpus = actions.length ? p.vcpus.map((x, j) => (j === v ? { ...x, actions } : x)) : p.vcpus.filter((_, j) => j !== v);
      if (vcpus.length === 0) continue;
      yield renameDense({ ...p, vcpus });
    }
  }
}

function renameDense(p: Program): Program {
  const n = [0, 0];
  return { ...p, vcpus: p.vcpus.map((v) => { const d = domainOf(v.name); return { ...v, name: `d${d}v${n[d]++}` }; }) };
}
