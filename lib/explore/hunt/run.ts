// Running one hunt program through the lab's own controlled-reproduction machinery (stress/repro.ts): the program
// is the params of the interpreter scenario, so the runs, outcomes, judging and flight records are repro's.

import type { TrialPool } from '../../run/index.js';
import { reproduce, type ReproResult, type RunFailure } from '../repro.js';
import type { Scenario } from '../../scenario/scenario.js';
import { verify } from '../verify.js';
import { interpret, HUNT_EXPECT } from './interp.js';
import { programMachine, type Program } from './program.js';

export const INTERP_URL = new URL('./interp.js', import.meta.url).href;

export function programScenario(p: Program, name = 'hunt-program'): Scenario {
  return {
    name, description: 'a generated hunt program', machine: programMachine(p),
    actors: Object.fromEntries(p.vcpus.map((v) => [v.name, interpret(v.name)])), expect: HUNT_EXPECT, params: p,
  };
}

export interface RunOptions { runs: number; seed: number; pctDepth: number; schedule?: string }

/** Runs under PCT until the first forbidden outcome (or replays one schedule). */
export function runProgram(pool: TrialPool, p: Program, strategy: string, o: RunOptions): Promise<ReproResult> {
  return reproduce(pool, INTERP_URL, programScenario(p), strategy, { runs: o.runs, chooser: 'pct', pctDepth: o.pctDepth, seed: o.seed, schedule: o.schedule, untilForbidden: true });
}

/** How a program is searched for a forbidden outcome: PCT sampling, and (hunt --verify K) verify after it. */
export interface Explorer {
  name: string;
  explore(pool: TrialPool, p: Program, strategy: string, o: RunOptions): Promise<{ runs: number; failure: RunFailure | null }>;
}

/** A bounded exhaustive search of the program (verify, every schedule with at most K preemptions), cut short at
 *  a few thousand runs: programs are small, but a hunt must keep moving. */
export const verifyExplorer = (bound: number, stop: () => boolean, maxRuns = 2000): Explorer => ({
  name: `verify K=${bound}`,
  async explore(pool, p, strategy) {
    const r = await verify(pool, INTERP_URL, programScenario(p), strategy, {
      bound, reduce: true, kinds: 0, maxFaults: 0, maxRuns, budgetMs: 30_000, seed: 1, interrupt: { get stop() { return stop(); } },
    });
    return { runs: r.runsMade, failure: r.firstForbidden && { ...r.firstForbidden, run: 0 } };
  },
});

export const pctExplorer: Explorer = {
  name: 'pct',
  async explore(pool, p, strategy, o) {
    const r = await runProgram(pool, p, strategy, o);
    return { runs: r.runs, failure: r.surprise };
  },
};
