// vpci-lab verify's engine: a stateless model checker over one scenario under one strategy. Each run boots a fresh
// machine and replays a prefix of choices (lib/verify/search.ts) on the real worker threads; the run's decisions,
// runnable sets, footprints and fault points come back through the machine's 'verify' region. Iterative deepening
// over the preemption bound (K = 0, 1, ...) makes the first failure found one with the fewest preemptions.

import { LAYOUT, releaseMachine, type Machine } from '../mem/machine.js';
import { CRASH_OUTCOMES, type Outcome } from '../mem/crash.js';
import { classifyTrial, type Classified } from '../lab/classify.js';
import { runTrial, TrialError, type TrialPool, type TrialResult } from '../run/index.js';
import { formatScheduleV2 } from '../sched/schedule.js';
import { LOG } from '../sched/state.js';
import { siteDigest } from '../sched/fault.js';
import { armVerify, readTrace, type Trace } from '../verify/trace.js';
import { stateDigest } from '../verify/digest.js';
import { Search } from '../verify/search.js';
import { isBuiltinScenario, ScenarioError, type Scenario } from '../scenario/scenario.js';
import { judgeFor, type Verdict } from '../scenario/judge.js';
import { interleaving, refsOf, Cell } from './repro.js';
import { labInputError } from './lab-input.js';
import type { TimelineEvent } from '../trace/recorder.js';

/** Decisions a verify run may make before it counts as a hang (the verify region logs 4096). */
export const VERIFY_MAX_STEPS = 4000;

export interface VerifyOptions {
  /** Preemption bound K (Infinity: unbounded). */
  bound: number;
  reduce: boolean;
  /** With reduce: sleep sets on top of DPOR (lib/verify/sleep.ts); default true. */
  sleep?: boolean;
  /** Fault kinds that branch (bit mask over FAULT_KINDS) and the most faults per run. */
  kinds: number;
  maxFaults: number;
  maxRuns: number;
  budgetMs: number;
  seed: number;
  shard?: { index: number; count: number };
  /** Set to stop the search at the next run (Ctrl-C). */
  interrupt?: { stop: boolean };
  onRun?: (runs: number) => void;
  /** Every counted run's terminal-state digest and schedule (tests, debugging). */
  onState?: (digest: string, schedule: string, outcome: Outcome) => void;
}

export interface FailureReport {
  outcome: Outcome; verdict: Verdict; where: string; vcpu: string; message: string; preemptions: number; schedule: string;
  cpuNames: string[]; lockClasses: string[]; events: TimelineEvent[]; crashCpu?: number;
}

export interface OutcomeStat { runs: number; minPreemptions: number; verdict: Verdict; where: string[]; schedule: string }

export interface VerifyResult {
  /** Which expectations judged the runs; a scenario or patch file's path for replay lines (repro.ts). */
  rule?: string; scenarioRef?: string; strategyRef?: string; replayOptions?: string;
  scenario: string; strategy: string; bound: number; reduce: boolean; sleep?: boolean; kinds: number; maxFaults: number;
  shard?: { index: number; count: number };
  /** Runs counted (this shard's), runs made in all (with the other shards' split runs), per bound level. */
  runs: number; runsMade: number; runsByBound: number[];
  /** Runs a sleep set showed redundant part way (their states are reached by other runs; they count as runs). */
  sleepCut: number;
  complete: boolean; cutBy?: 'max-runs' | 'budget' | 'interrupt';
  outcomes: Partial<Record<Outcome, OutcomeStat>>;
  digests: string[];
  forbidden: number;
  firstFailure: FailureReport | null;
  firstForbidden: FailureReport | null;
  ms: number;
}

/** Outcomes that show the strategy wrong (domain-crashed is a strategy's deliberate policy, judged by the scenario). */
const RANK = { expected: 0, acceptable: 1, forbidden: 2 } as const;

export const FAILURE = (o: Outcome): boolean => CRASH_OUTCOMES.has(o) || o === 'deadlock' || o === 'hang' || o === 'restart-budget' || o === 'stale-mapping';

export async function verify(pool: TrialPool, url: string, s: Scenario, strategy: string, o: VerifyOptions): Promise<VerifyResult> {
  const t0 = performance.now();
  const r: VerifyResult = {
    scenario: s.name, strategy, bound: o.bound, reduce: o.reduce, sleep: o.reduce && o.sleep !== false, kinds: o.kinds, maxFaults: o.maxFaults, shard: o.shard,
    runs: 0, runsMade: 0, runsByBound: [], sleepCut: 0, complete: false, outcomes: {}, digests: [], forbidden: 0, firstFailure: null, firstForbidden: null, ms: 0,
  };
  const judged = judgeFor(s, strategy, isBuiltinScenario(url));
  Object.assign(r, { rule: judged.rule, ...refsOf(url, s, strategy) });
  const digests = new Set<string>();
  // By outcome (a Map: a keyed load on r.outcomes went megamorphic), copied into r.outcomes in order at the end.
  const outcomes = new Map<Outcome, OutcomeStat>();
  const levels = Number.isFinite(o.bound) ? Array.from({ length: o.bound + 1 }, (_, k) => k) : [Infinity];
  let cut: VerifyResult['cutBy'];
  let cell: Cell | undefined;
  outer: for (const k of levels) {
    const search = new Search({ bound: k, reduce: o.reduce, sleep: o.sleep, shard: o.shard && { ...o.shard, splitDepth: 4 } });
    let n = 0;
    r.runsByBound.push(0);
    for (let p = search.next(); p; p = search.next()) {
      if (o.interrupt?.stop) { cut = 'interrupt'; break outer; }
      if (r.runs >= o.maxRuns) { cut = 'max-runs'; break outer; }
      if (performance.now() - t0 > o.budgetMs) { cut = 'budget'; break outer; }
      cell ??= new Cell(url, s, strategy, o.seed, true);
      let run: VerifyRun | undefined;
      for (let attempt = 0; run === undefined; attempt++) {
        try { run = await oneRun(pool, cell, s, strategy, o, p); } catch (e) { if (!retrying(e, attempt)) throw e; pool.recreate(); }
      }
      const cutBefore = search.sleepCut;
      search.record(run.trace, run.ended);
      r.runsMade++;
      if (search.foreign) { run.release(); continue; }
      r.sleepCut += search.sleepCut - cutBefore;
      r.runsByBound[r.runsByBound.length - 1] = ++n;
      r.runs++;
      o.onRun?.(r.runs);
      digests.add(run.digest);
      o.onState?.(run.digest, run.schedule(), run.outcome);
      const verdict = judged.verdict(run.outcome, run.where);
      let st = outcomes.get(run.outcome);
      if (st === undefined) outcomes.set(run.outcome, st = { runs: 0, minPreemptions: search.preemptions, verdict, where: [], schedule: run.schedule() });
      st.runs++;
      st.minPreemptions = Math.min(st.minPreemptions, search.preemptions);
      if (RANK[verdict] > RANK[st.verdict]) { st.verdict = verdict; st.schedule = run.schedule(); } // the worst verdict shows
      if (!st.where.includes(run.where)) st.where.push(run.where);
      if (verdict === 'forbidden') r.forbidden++;
      // Deepening makes the first failure one with the fewest preemptions; unbounded (K=all), a later one may have fewer.
      const fewer = (f: FailureReport | null): boolean => f === null || search.preemptions < f.preemptions;
      const fail = FAILURE(run.outcome) && fewer(r.firstFailure), forb = verdict === 'forbidden' && fewer(r.firstForbidden);
      if (fail || forb) {
        const f = run.report(verdict, search.preemptions);
        if (fail) r.firstFailure = f;
        if (forb) r.firstForbidden = f;
      }
      run.release();
    }
  }
  for (const [k, st] of outcomes) r.outcomes[k] = st;
  r.complete = cut === undefined;
  r.cutBy = cut;
  r.digests = [...digests].sort();
  r.ms = performance.now() - t0;
  return r;
}

/**
 * A run whose CPUs did not all start (a pool starved of cores by other processes) is the lab's failure, not the
 * model's: the run is deterministic, so it is run again on a fresh pool, twice at most (in the search's loop: a
 * wrapper took a closure and a promise per run).
 */
function retrying(e: unknown, attempt: number): boolean {
  return e instanceof TrialError && /started/.test(e.message) && attempt < 2;
}

async function oneRun(pool: TrialPool, cell: Cell, s: Scenario, strategy: string, o: VerifyOptions, p: { decisions: Uint8Array; faults: number[] }): Promise<VerifyRun> {
  const { machine, world, specs, lockName } = cell.boot();
  armVerify({ kinds: o.kinds, maxFaults: o.maxFaults, forced: p.faults, replaying: { key: cell, decisions: p.decisions } });
  const n = specs.length;
  const res = await runTrial(pool, machine, specs, {
    mode: 'controlled', chooser: 'verify', schedule: { threads: n, decisions: p.decisions }, seed: o.seed,
    maxSteps: VERIFY_MAX_STEPS, budgetMs: 30_000, startTimeoutMs: 20_000, lockName,
  });
  const { cpuNames } = cell;
  const stuck = labInputError(res, cpuNames, s.name, strategy, 30_000);
  if (stuck) throw new ScenarioError(stuck);
  const c = classifyTrial(res, world, cpuNames);
  // The run's decisions, from the scheduler's log (res.schedule is the same log as text: no need to parse it back).
  const decisions = res.schedule ? LOG.slice(0, res.steps ?? 0) : new Uint8Array(0);
  const trace = readTrace(n, decisions);
  const digest = stateDigest(`${c.outcome}|${c.where}`);
  return new VerifyRun(c, digest, trace, res, machine, decisions, siteDigest(), o.seed, cpuNames);
}

/** A run made, read out: an object with methods rather than a closure per use, per run. */
class VerifyRun {
  readonly outcome: Outcome;
  readonly where: string;
  /** Thread t finished its actor (search.record). */
  readonly ended = (t: number): boolean => this.res.threads[t]?.status === 'done';

  constructor(private readonly c: Classified, readonly digest: string, readonly trace: Trace, private readonly res: TrialResult, private readonly machine: Machine,
    private readonly decisions: Uint8Array, private readonly sites: number, private readonly seed: number, private readonly cpuNames: string[]) {
    this.outcome = c.outcome;
    this.where = c.where;
  }

  /** Most runs never print their schedule: the failed fault points are listed only when one does. */
  schedule(): string {
    const failed = this.trace.faults.filter((f) => f.fail && !f.scripted).map((f) => f.index);
    return formatScheduleV2(this.cpuNames.length, this.decisions, this.seed, this.sites, failed);
  }

  report(verdict: Verdict, preemptions: number): FailureReport {
    const { c, cpuNames } = this;
    return {
      outcome: c.outcome, verdict, where: c.where, vcpu: c.vcpu, message: c.message, preemptions, schedule: this.schedule(),
      cpuNames, lockClasses: [...LAYOUT.lockClasses], events: interleaving(cpuNames), crashCpu: this.res.crash?.cpu,
    };
  }

  /** Read out (the report above was its last reader): its buffer serves the next run. */
  release(): void { if (this.res.aborted === 0) releaseMachine(this.machine); }
}
