// Race reproduction scripts. A scenario is a module whose default export is a plain object: the machine, one actor
// function per vCPU that takes part, and the outcomes it expects per strategy (jcstress style: expected,
// acceptable, anything else is forbidden). Actors get an API object, so a scenario file needs no imports and can
// live anywhere: `vpci-lab repro ./my-race.mjs --strategy upstream`.

import { pathToFileURL, fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { checkExpectations, checkKnown, type Expectations, type KnownBugs } from './judge.js';
import { closest } from '../strategy/expect.js';
import { knownStrategyNames, displayPath, syntaxErrorAt } from '../strategy/index.js';
import type { ModelDesc } from '../lab/boot.js';
import { stressHw, deviceSbdf } from '../lab/workload.js';

import type { ScenarioApi } from '../../workers/scenario-actor.js';

export type { ScenarioApi };

export type ActorFn = (x: ScenarioApi, params?: unknown) => void;

export { judge, judgeFor, type Judge, type Expectation, type ExpectEntry, type Expectations, type KnownBug, type KnownBugs, type Verdict } from './judge.js';

export interface ScenarioMachine {
  /** vCPUs per domain, Dom0 first. Default [2]. */
  vcpus?: number[];
  /** Devices (the stress machine's: 64 KiB BAR0, 16 KiB 64-bit BAR, 32 KiB ROM, decoding on). Default 2. */
  devices?: number;
  /** Give every device an MSI-X capability (8 entries; table and PBA in BAR0). Default false. */
  msix?: boolean;
  /** Give every device an MSI capability (one vector, 32-bit address), so L21's init_msi registers handlers. Default false. */
  msi?: boolean;
  /** Devices Dom0 owns at boot (indices); default all. */
  boot?: number[];
  /** Devices Xen hides at boot (pci_hide_device: dom_xen owns them; at HEAD Dom0's vPCI covers them). Not in `boot`. */
  hidden?: number[];
  /** Devices the toolstack assigned to a DomU before its vCPUs started (xl create with pci=[...]): { 1: [0] }. */
  assigned?: Record<number, number[]>;
  inject?: ModelDesc['inject'];
  mapBatch?: number;
  preemptEvery?: number;
  /** Freed blocks reused at once (Xen's allocator may): a stale pointer meets the next object, no crash. */
  heapReuse?: boolean;
  /**
   * DomUs have vPCI (CONFIG_HAS_VPCI_GUEST_SUPPORT, from the v4/v5 "PCI devices passthrough on Arm" series).
   * Default false: in Xen, both generations, only the hardware domain has vPCI.
   */
  vpciGuestSupport?: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  /** Where in the analysis it comes from (crash path, race id, review point). */
  source?: string;
  machine?: ScenarioMachine;
  /** vCPU name ("d0v0", "d1v0", ...) -> its actor. One OS thread each. */
  actors: Record<string, ActorFn>;
  /** Per strategy name; '*' applies to strategies not listed (see judge.ts). */
  expect: Expectations;
  /**
   * Bugs of a generation itself this scenario may meet that are not its race, each at its site, per generation:
   * `{ head: [{ outcome: 'assert', where: 'modify_bars', xen: 'header.c:357' }] }`. Expected under every strategy
   * of that generation, and what a patch judged as a fix is let off (judge.ts).
   */
  known?: KnownBugs;
  /** Structured-clonable data handed to every actor as its second argument (hunt's interpreted programs). */
  params?: unknown;
}

export function defineScenario(s: Scenario): Scenario { return s; }

const VCPU_NAME = /^d(\d+)v(\d+)$/;

/** Boot description and actor layout (cpu i runs actors[i]) for a scenario under a strategy. */
export function scenarioModel(s: Scenario, strategy: string, seed = 1): { desc: ModelDesc; actors: Array<{ name: string; domain: number; vcpu: number }> } {
  const m = s.machine ?? {};
  const vcpus = m.vcpus ?? [2];
  const devices = m.devices ?? 2;
  const actors = Object.keys(s.actors).map((name) => {
    const r = VCPU_NAME.exec(name);
    if (!r) throw new ScenarioError(`scenario ${s.name}: actor '${name}' is not a vCPU name like d0v1`);
    const domain = Number(r[1]), vcpu = Number(r[2]);
    if (domain >= vcpus.length || vcpu >= vcpus[domain]) throw new ScenarioError(`scenario ${s.name}: actor ${name} names a vCPU the machine does not have`);
    return { name, domain, vcpu };
  });
  if (actors.length === 0) throw new ScenarioError(`scenario ${s.name} has no actors`);
  const hidden = m.hidden ?? [];
  if (!Array.isArray(hidden) || hidden.some((i) => !Number.isInteger(i) || i < 0 || i >= devices || (m.boot ?? []).includes(i))) {
    throw new ScenarioError(`scenario ${s.name}: machine.hidden must list device indices (0..${devices - 1}) that are not in machine.boot`);
  }
  for (const [d, devs] of Object.entries(m.assigned ?? {})) {
    const dom = Number(d);
    if (!Number.isInteger(dom) || dom < 1 || dom >= vcpus.length) throw new ScenarioError(`scenario ${s.name}: machine.assigned names domain ${d}, which is not a DomU of the machine`);
    if (!Array.isArray(devs) || devs.some((i) => !Number.isInteger(i) || i < 0 || i >= devices || !(m.boot ?? [i]).includes(i))) {
      throw new ScenarioError(`scenario ${s.name}: machine.assigned.${d} must list devices Dom0 has at boot (0..${devices - 1})`);
    }
  }
  const desc: ModelDesc = {
    dom0Vcpus: vcpus[0], domUVcpus: vcpus.slice(1), hw: stressHw(devices, m.msix === true, m.msi === true),
    bootDevices: (m.boot ?? Array.from({ length: devices }, (_, i) => i).filter((i) => !(m.hidden ?? []).includes(i))).map(deviceSbdf),
    hiddenDevices: (m.hidden ?? []).map(deviceSbdf),
    bootAssign: Object.entries(m.assigned ?? {}).flatMap(([d, devs]) => devs.map((i) => ({ domain: Number(d), sbdf: deviceSbdf(i) }))),
    strategy, seed, inject: m.inject, mapBatch: m.mapBatch ?? 4, preemptEvery: m.preemptEvery ?? 0,
    threads: actors.length, heapWords: 1 << 16, heapReuse: m.heapReuse, vpciGuestSupport: m.vpciGuestSupport === true,
  };
  return { desc, actors };
}

/** A scenario that cannot be loaded or is malformed (the CLI prints one line and exits 2). */
export class ScenarioError extends Error {
  constructor(message: string) { super(message); this.name = 'ScenarioError'; }
}

export const BUILTIN_DIR = new URL('../../scenarios/', import.meta.url);
/**
 * The built-in catalogue: every module in scenarios/ (one file per race), found from the folder so that adding a
 * race is adding a file, as Xen's REGISTER_VPCI_CAP adds a capability without a central list. Sorted by name,
 * numbers in names by value (crash-path-2 before crash-path-10).
 */
export const BUILTIN_SCENARIOS: readonly string[] = fs.readdirSync(BUILTIN_DIR)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));

/** Whether a scenario module is one of the lab's catalogue (a patch is judged as a fix there). */
export const isBuiltinScenario = (url: string): boolean => url.startsWith(BUILTIN_DIR.href);

/** A loaded scenario: its module URL (for workers), the scenario, and how a command line names it again. */
export interface LoadedScenario { url: string; scenario: Scenario; ref: string; builtin: boolean }

/**
 * A built-in name or a path to a .js/.mjs module. Expectation keys are checked against the strategies known when
 * it loads (load the strategies first): a key close to a known name but not one is a misspelling.
 */
export async function loadScenario(ref: string): Promise<LoadedScenario> {
  let url: string;
  if ((BUILTIN_SCENARIOS as readonly string[]).includes(ref)) url = new URL(`${ref}.js`, BUILTIN_DIR).href;
  else if (/[/\\]|\.(m?js|ts)$/.test(ref)) {
    const p = path.resolve(ref.replace(/\.ts$/, '.js'));
    if (!fs.existsSync(p)) throw new ScenarioError(`scenario file not found: ${ref}`);
    url = pathToFileURL(p).href;
  } else {
    throw new ScenarioError(`unknown scenario '${ref}' (built in: ${BUILTIN_SCENARIOS.join(', ')}; or give a path to a .js/.mjs file)`);
  }
  const builtin = isBuiltinScenario(url);
  const file = builtin ? undefined : fileURLToPath(url);
  let mod: { default?: unknown };
  try { mod = (await import(url)) as { default?: unknown }; } catch (e) {
    const first = ((e as Error)?.message ?? String(e)).split('\n')[0];
    throw new ScenarioError(`scenario ${ref} does not load: ${(file && e instanceof SyntaxError && syntaxErrorAt(file, first)) || first}`);
  }
  const s = mod.default as Scenario | undefined;
  if (!s || typeof s !== 'object' || typeof s.name !== 'string' || !s.actors || typeof s.actors !== 'object' || !s.expect) {
    throw new ScenarioError(`scenario ${ref}: the default export must be { name, description, actors, expect }`);
  }
  for (const [k, f] of Object.entries(s.actors)) if (typeof f !== 'function') throw new ScenarioError(`scenario ${s.name}: actor ${k} is not a function`);
  const problem = checkExpectations(s.expect) ?? checkKnown(s.known);
  if (problem) throw new ScenarioError(`scenario ${s.name}: ${problem}`);
  const names = knownStrategyNames();
  for (const k of Object.keys(s.expect)) {
    if (k === '*' || names.includes(k)) continue;
    const near = closest(k, names);
    if (near) throw new ScenarioError(`scenario ${s.name}: expect names strategy '${k}', which does not exist (did you mean '${near}'?)`);
  }
  return { url, scenario: s, ref: file ? displayPath(file) : ref, builtin };
}
