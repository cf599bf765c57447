// Controlled runs of one scenario under one strategy: each run is a fresh machine whose actors run on real worker
// threads, one at a time between yield points, in the order a chooser (PCT or random walk) or a replayed schedule
// picks. The first failing run keeps its schedule and full interleaving.

import { OUTCOMES, CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';
import { LAYOUT, releaseMachine } from '../mem/machine.js';
import { readRing } from '../trace/recorder.js';
import { bootMachine } from '../lab/boot.js';
import { bootFromImage, imageKey } from '../lab/boot-image.js';
import { lockNamer, describeEvent } from '../lab/names.js';
import { classifyTrial } from '../lab/classify.js';
import { runTrial, TrialError, type TrialPool, type ActorSpec } from '../run/index.js';
import { parseSchedule, ScheduleDivergence } from '../sched/schedule.js';
import { siteDigest } from '../sched/fault.js';
import { scheduleStringV2 } from '../sched/setup.js';
import { armVerify, ALL_FAULT_KINDS, VERIFY_WORDS } from '../verify/trace.js';
import { scenarioModel, ScenarioError, type Scenario } from '../scenario/scenario.js';
import { judgeFor, type Verdict } from '../scenario/judge.js';
import { isBuiltinScenario } from '../scenario/scenario.js';
import { loadedStrategy, displayPath, patchThrew } from '../strategy/index.js';
import { labInputError } from './lab-input.js';
import { fileURLToPath } from 'node:url';
import type { ScenarioActorArg } from '../../workers/scenario-actor.js';
import type { TimelineEvent } from '../trace/recorder.js';
import type { ModelDesc, World } from '../lab/boot.js';
import { owns, type Shard } from './shard.js';

const ACTOR_MODULE = new URL('../../workers/scenario-actor.js', import.meta.url).href;

export interface ReproOptions {
  runs: number;
  chooser: 'pct' | 'random';
  pctDepth: number;
  seed: number;
  /** Replay exactly this schedule, once. */
  schedule?: string;
  /** Keep going after the first failure (explore). */
  all?: boolean;
  /** Stop at the first forbidden outcome only (hunt: a DomU crashed on purpose is not what it looks for). */
  untilForbidden?: boolean;
  /** Stop at the first run whose outcome this accepts (bench find: the first crash). */
  until?: (outcome: Outcome) => boolean;
  maxSteps?: number;
  /** Wall-clock budget of one run (ms, default 15 000): a CPU that reaches no yield point within it is a lab-input error. */
  budgetMs?: number;
  /** Run only the runs this shard owns (run k belongs to shard k mod n); run numbers and seeds stay global. */
  shard?: Shard;
}

/** The first run that ended in one forbidden outcome: what a JUnit failure and a replay need. */
export interface ForbiddenRun { outcome: Outcome; count: number; run: number; where: string; vcpu: string; message: string; schedule: string }

export interface RunFailure {
  run: number; outcome: Outcome; verdict: Verdict; where: string; vcpu: string; message: string; schedule: string;
  cpuNames: string[]; lockClasses: string[]; events: TimelineEvent[]; crashCpu?: number;
}

/** Runs that ended alike: same outcome, same crash site (empty for non-crashes), same verdict. */
export interface Tally { outcome: Outcome; where: string; verdict: Verdict; count: number }

export interface ReproResult {
  scenario: string; strategy: string; runs: number; outcomes: Record<Outcome, number>;
  verdicts: Record<Verdict, number>; tally: Tally[]; firstFailure: RunFailure | null; surprise: RunFailure | null; lastSchedule?: string;
  /** One entry per forbidden outcome kind, in order of first occurrence. */
  forbidden: ForbiddenRun[];
  /** Which expectations judged the runs (lib/scenario/judge.ts), one line. */
  rule: string;
  /** How a command line names a scenario or patch file again (its path), when that is not its name. */
  scenarioRef?: string;
  strategyRef?: string;
  /** What else the replay command needs (the C backend's ` --backend c --xen-src DIR --patch P`). */
  replayOptions?: string;
}

/** What a replay command line names: the built-in's name, or the file's path. */
export function refsOf(url: string, s: Scenario, strategy: string): { scenarioRef?: string; strategyRef?: string } {
  const file = loadedStrategy(strategy).file;
  return { ...(isBuiltinScenario(url) ? {} : { scenarioRef: displayPath(fileURLToPath(url)) }), ...(file ? { strategyRef: displayPath(file) } : {}) };
}

function count(tally: Tally[], outcome: Outcome, where: string, verdict: Verdict): void {
  const site = CRASH_OUTCOMES.has(outcome) ? where : '';
  const t = tally.find((x) => x.outcome === outcome && x.where === site && x.verdict === verdict);
  if (t) t.count++; else tally.push({ outcome, where: site, verdict, count: 1 });
}

/** An actor's own mistake (a thrown error, a device the machine lacks) is the scenario's error, one line. */
function asScenarioError(e: unknown): unknown {
  const fault = e instanceof TrialError ? e.threads.find((t) => t.fault)?.fault : undefined;
  return fault ? new ScenarioError(fault) : e;
}

/**
 * bootMachine (from the description's image after its first two boots, lib/lab/boot-image.ts), with a patch's own
 * error (its code runs at boot: pci_add_device, the init hooks) named as such.
 */
export function boot(desc: Parameters<typeof bootMachine>[0], key?: () => string): ReturnType<typeof bootMachine> {
  try { return bootFromImage(desc, key?.()); } catch (e) {
    const why = patchThrew(e, 'while the machine booted');
    throw why ? new ScenarioError(why) : e;
  }
}

/**
 * One cell's model (a scenario under a strategy with a model seed), made once for all its runs: every run boots the
 * same description (its image key computed at the first boot), and from the third on, the image's world, for which
 * the actor specs and lock namer are made once too. The pool then sees the same actor arguments run after run and
 * starts each CPU's task without a message (lib/run/pool.ts).
 */
export class Cell {
  readonly desc: ModelDesc;
  readonly actors: Array<{ name: string; domain: number; vcpu: number }>;
  readonly cpuNames: string[];
  private key?: string;
  private last?: { world: World; specs: ActorSpec[]; lockName: (addr: number) => string | undefined };

  constructor(private readonly url: string, private readonly s: Scenario, strategy: string, seed?: number, verifyRegion = false) {
    ({ desc: this.desc, actors: this.actors } = scenarioModel(s, strategy, seed));
    if (verifyRegion) this.desc.extraRegions = { ...this.desc.extraRegions, verify: VERIFY_WORDS };
    this.cpuNames = this.actors.map((a) => a.name);
  }

  boot(): { machine: ReturnType<typeof bootMachine>['machine']; world: World; specs: ActorSpec[]; lockName: (addr: number) => string | undefined } {
    const { machine, world } = boot(this.desc, () => (this.key ??= imageKey(this.desc)));
    if (this.last?.world !== world) {
      const { url, s } = this;
      const specs = this.actors.map((a) => ({ module: ACTOR_MODULE, export: 'run', arg: { url, name: a.name, domain: a.domain, vcpu: a.vcpu, world, params: s.params } satisfies ScenarioActorArg }));
      this.last = { world, specs, lockName: lockNamer(world) };
    }
    return { machine, ...this.last };
  }
}

/** The flight recorder's events of the run just made, in global order, labelled (attached machine). */
export function interleaving(cpuNames: string[]): TimelineEvent[] {
  return cpuNames.flatMap((_, cpu) => readRing(cpu))
    .sort((x, y) => x.seq - y.seq)
    .map((e) => ({ ...e, label: describeEvent(e, (k) => cpuNames[k] ?? `cpu${k}`) }));
}

/**
 * PCT's estimate k of a run's length, from one uncounted random-walk run of this cell with the campaign seed.
 * The runner would otherwise take the pool's previous run, so a run's outcome would depend on what ran before it
 * (another cell, another shard's runs): with this, run r of a cell is a function of (scenario, strategy, seed, r)
 * alone, and shards merge into exactly the unsharded result.
 */
async function pctEstimate(pool: TrialPool, url: string, s: Scenario, strategy: string, o: ReproOptions): Promise<number> {
  const { desc, actors } = scenarioModel(s, strategy);
  const { machine, world } = boot(desc);
  const specs: ActorSpec[] = actors.map((a) => ({ module: ACTOR_MODULE, export: 'run', arg: { url, name: a.name, domain: a.domain, vcpu: a.vcpu, world, params: s.params } satisfies ScenarioActorArg }));
  const res = await runTrial(pool, machine, specs, { mode: 'controlled', chooser: 'random', seed: o.seed >>> 0, maxSteps: o.maxSteps ?? 20_000, budgetMs: o.budgetMs ?? 15_000, lockName: lockNamer(world) })
    .catch((e: unknown) => { throw asScenarioError(e); });
  const stuck = labInputError(res, actors.map((a) => a.name), s.name, strategy, o.budgetMs ?? 15_000);
  if (stuck) throw new ScenarioError(stuck);
  if (res.aborted === 0) releaseMachine(machine);
  return res.outcome !== 'hang' && res.steps ? res.steps : 100;
}

const hex8 = (x: number): string => x.toString(16).padStart(8, '0');

/**
 * An S2 replay whose run met other sites than the string recorded is refused, not reported: its outcome belongs to
 * another interleaving (the model, scenario or strategy changed since), and a timeline or an exit code under the
 * string's name would claim the recorded run still ends that way. What it did end in is said, for orientation.
 */
function digestDivergence(got: number, want: number, c: { outcome: Outcome; where: string }, steps: number): ScheduleDivergence {
  return new ScheduleDivergence(`replay diverged: the run met a different sequence of sites than the schedule recorded (digest ${hex8(got)}, ` +
    `the schedule says ${hex8(want)}): the model, scenario or strategy changed since it was printed, so this run (it ended in ${c.outcome}` +
    `${c.where ? ` in ${c.where}` : ''}) is another interleaving; run without --schedule to search again`, steps, -1, []);
}

export async function reproduce(pool: TrialPool, url: string, s: Scenario, strategy: string, o: ReproOptions,
  onRun?: (run: number, outcome: Outcome) => void): Promise<ReproResult> {
  const outcomes = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>;
  const verdicts: Record<Verdict, number> = { expected: 0, acceptable: 0, forbidden: 0 };
  const judged = judgeFor(s, strategy, isBuiltinScenario(url));
  const out: ReproResult = { scenario: s.name, strategy, runs: 0, outcomes, verdicts, tally: [], firstFailure: null, surprise: null, forbidden: [], rule: judged.rule, ...refsOf(url, s, strategy) };
  const runs = o.schedule ? 1 : o.runs;
  // An S2 schedule also fixes the model seed, which fault points fail, and the sites it must meet; S1 (no digest)
  // replays with model seed 1, what repro used when it printed them.
  const v2 = o.schedule !== undefined ? parseSchedule(o.schedule) : undefined;
  const faulted = v2?.digest !== undefined, modelSeed = v2?.seed ?? 1;
  const pctLength = o.chooser === 'pct' && !o.schedule ? await pctEstimate(pool, url, s, strategy, o) : undefined;
  let cell: Cell | undefined;
  for (let run = 0; run < runs; run++) {
    if (!owns(o.shard, run)) continue;
    cell ??= new Cell(url, s, strategy, modelSeed, faulted);
    const { machine, world, specs, lockName } = cell.boot();
    if (faulted) armVerify({ kinds: ALL_FAULT_KINDS, maxFaults: 1 << 20, forced: v2!.faults ?? [] });
    const res = await runTrial(pool, machine, specs, {
      mode: 'controlled', chooser: o.schedule ? 'replay' : o.chooser, schedule: o.schedule, seed: (o.seed + run * 0x9e3779b1) >>> 0,
      pctDepth: o.pctDepth, pctLength, maxSteps: o.maxSteps ?? 20_000, budgetMs: o.budgetMs ?? 15_000, lockName,
    }).catch((e: unknown) => { throw asScenarioError(e); });
    const { cpuNames } = cell;
    const stuck = labInputError(res, cpuNames, s.name, strategy, o.budgetMs ?? 15_000);
    if (stuck) throw new ScenarioError(stuck);
    const c = classifyTrial(res, world, cpuNames);
    if (faulted && siteDigest() !== v2!.digest) throw digestDivergence(siteDigest(), v2!.digest!, c, res.steps ?? 0);
    const schedule = faulted ? o.schedule! : scheduleStringV2(modelSeed);
    const verdict = judged.verdict(c.outcome, c.where);
    out.runs++;
    outcomes[c.outcome]++;
    verdicts[verdict]++;
    count(out.tally, c.outcome, c.where, verdict);
    out.lastSchedule = schedule;
    onRun?.(run, c.outcome);
    if (verdict === 'forbidden') {
      const known = out.forbidden.find((x) => x.outcome === c.outcome);
      if (known) known.count++;
      else out.forbidden.push({ outcome: c.outcome, count: 1, run, where: c.where, vcpu: c.vcpu, message: c.message, schedule });
    }
    const failed = c.outcome !== 'ok';
    const keep = (failed && !out.firstFailure) || (verdict === 'forbidden' && !out.surprise) || o.schedule !== undefined;
    if (keep) {
      const events = interleaving(cpuNames);
      const f: RunFailure = { run, outcome: c.outcome, verdict, where: c.where, vcpu: c.vcpu, message: c.message, schedule,
        cpuNames, lockClasses: [...LAYOUT.lockClasses], events, crashCpu: res.crash?.cpu };
      if ((failed || o.schedule !== undefined) && !out.firstFailure) out.firstFailure = f;
      if (verdict === 'forbidden' && !out.surprise) out.surprise = f;
    }
    if (res.aborted === 0) releaseMachine(machine); // read out: its buffer serves the next run
    if (o.until ? o.until(c.outcome) : o.untilForbidden ? verdict === 'forbidden' : failed && !o.all) break;
  }
  out.tally.sort((a, b) => b.count - a.count);
  return out;
}
