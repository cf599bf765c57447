// Reducing a shrunk program's schedule to the fewest preemptions. First `verify` (stress/verify.ts): every schedule
// with at most K preemptions, K = 0, 1, 2 in turn, so the first failure it meets has the fewest preemptions there
// are (a preemption is a switch away from a thread that could still run). If verify runs out of its small budget
// or meets another bug first, PCT depth 1 (no priority change), 2, 3, ... stands in: the first depth that fails
// gives at most depth-1 priority changes, and of a few such schedules the one with the fewest context switches.

import { parseSchedule } from '../../sched/schedule.js';
import type { RunFailure } from '../repro.js';
import { verify } from '../verify.js';
import type { Program } from './program.js';
import { INTERP_URL, programScenario } from './run.js';
import { failsLike, sameBug, type ShrinkContext } from './shrink.js';

export interface ReducedSchedule {
  failure: RunFailure; method: 'verify' | 'pct';
  /** verify: the fewest preemptions of any failing schedule (exact within its bound). */
  preemptions?: number;
  /** pct: the smallest depth that failed. */
  depth?: number;
  switches: number;
}

/** Context switches in a schedule: decisions that pick another thread than the one before. */
export function switches(schedule: string): number {
  const d = parseSchedule(schedule).decisions;
  let n = 0;
  for (let i = 1; i < d.length; i++) if (d[i] !== d[i - 1]) n++;
  return n;
}

export interface ScheduleBudget { verifyBound: number; verifyRuns: number; verifyMs: number }
export const DEFAULT_SCHEDULE_BUDGET: ScheduleBudget = { verifyBound: 2, verifyRuns: 1500, verifyMs: 20_000 };

export async function reduceSchedule(p: Program, target: RunFailure, ctx: ShrinkContext, b = DEFAULT_SCHEDULE_BUDGET): Promise<ReducedSchedule | null> {
  return (await fewestPreemptions(p, target, ctx, b)) ?? pctSchedule(p, target, ctx);
}

async function fewestPreemptions(p: Program, target: RunFailure, ctx: ShrinkContext, b: ScheduleBudget): Promise<ReducedSchedule | null> {
  if (b.verifyRuns <= 0) return null;
  const r = await verify(ctx.pool, INTERP_URL, programScenario(p), ctx.strategy, {
    bound: b.verifyBound, reduce: true, kinds: 0, maxFaults: 0, maxRuns: b.verifyRuns, budgetMs: b.verifyMs, seed: 1,
    interrupt: { get stop() { return ctx.stop(); } },
  });
  ctx.onRuns?.(r.runsMade);
  const f = r.firstForbidden;
  if (!f || !sameBug(f, target)) return null;
  return { failure: { ...f, run: 0 }, method: 'verify', preemptions: f.preemptions, switches: switches(f.schedule) };
}

async function pctSchedule(p: Program, target: RunFailure, ctx: ShrinkContext, maxDepth = 4, triesPerDepth = 60, keep = 6): Promise<ReducedSchedule | null> {
  for (let depth = 1; depth <= maxDepth && !ctx.stop(); depth++) {
    let best: ReducedSchedule | null = null, found = 0;
    for (let i = 0; i < triesPerDepth && found < keep && !ctx.stop(); i++) {
      const f = await failsLike(ctx, p, target, { runs: 1, seed: (ctx.seed + i * 7919) >>> 0, pctDepth: depth });
      if (!f) continue;
      found++;
      const sw = switches(f.schedule);
      if (!best || sw < best.switches || (sw === best.switches && f.schedule.length < best.failure.schedule.length)) best = { failure: f, method: 'pct', depth, switches: sw };
    }
    if (best) return best;
  }
  return null;
}
