// Running one hunt program through the lab's own controlled-reproduction machinery (stress/repro.ts): the program
// is the params of the interpreter scenario, so the runs, outcomes, judging and flight records are repro's.

import type { TrialPool } from '../../lib/run/index.js';
import { reproduce, type ReproResult, type RunFailure } from '../repro.js';
import type { Scenario } from '../scenario.js';
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

/**
 * How a program is searched for a forbidden outcome. PCT sampling is the one there is today; a bounded exhaustive
 * search (`verify` with a small preemption bound, issue 8) plugs in here as a second explorer once it exists, run
 * after PCT found nothing.
 */
export interface Explorer {
  name: string;
  explore(pool: TrialPool, p: Program, strategy: string, o: RunOptions): Promise<{ runs: number; failure: RunFailure | null }>;
}

export const pctExplorer: Explorer = {
  name: 'pct',
  async explore(pool, p, strategy, o) {
    const r = await runProgram(pool, p, strategy, o);
    return { runs: r.runs, failure: r.surprise };
  },
};
