// The scenario module every hunt program runs through (workers load it once): its actors read the program from
// the scenario's params and run the very statements a finding file would contain, compiled once per distinct
// statement. One module for all programs, so the workers' module cache does not grow with the hunt.

import type { ActorFn, Scenario, ScenarioApi } from '../../scenario/scenario.js';
import { actorCode, type Program } from './program.js';

const compiled = new Map<string, (x: ScenarioApi) => void>();

function compile(line: string): (x: ScenarioApi) => void {
  let f = compiled.get(line);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- our own generated statement, the same text a finding file holds
  if (!f) { f = new Function('x', line) as (x: ScenarioApi) => void; compiled.set(line, f); }
  return f;
}

/**
 * Each vCPU's compiled statements, per program: a worker hands its actors the params it kept (paramsReadOnly), the
 * same object run after run of one program, so its statements are written and looked up once, not per run.
 */
const programs = new WeakMap<Program, Map<string, Array<(x: ScenarioApi) => void>>>();

function statements(p: Program, name: string): Array<(x: ScenarioApi) => void> {
  let byVcpu = programs.get(p);
  if (!byVcpu) { byVcpu = new Map(); programs.set(p, byVcpu); }
  let fns = byVcpu.get(name);
  if (!fns) {
    const me = p.vcpus.find((v) => v.name === name);
    if (!me) throw new Error(`hunt program has no vCPU ${name}`);
    fns = actorCode(me.actions).map((line) => compile(line));
    byVcpu.set(name, fns);
  }
  return fns;
}

export const interpret = (name: string): ActorFn => (x, params) => {
  for (const f of statements(params as Program, name)) f(x);
};

/** Its actors only read the program: a worker passes them the params it kept, frozen (workers/scenario-actor.ts). */
export const paramsReadOnly = true;

export const ALL_VCPUS = ['d0v0', 'd0v1', 'd0v2', 'd0v3', 'd1v0', 'd1v1', 'd1v2', 'd1v3'];

/** Outcomes a hunt does not count as findings; everything else (crash, deadlock, hang, stale mapping) is one. */
export const HUNT_EXPECT: Scenario['expect'] = { '*': { expected: ['ok'], acceptable: ['domain-crashed'] } };

export default {
  name: 'hunt-program',
  description: 'interpreter for generated hunt programs (params: the program)',
  actors: Object.fromEntries(ALL_VCPUS.map((n) => [n, interpret(n)])),
  expect: HUNT_EXPECT,
} satisfies Scenario;
