// A stress campaign: trials on a warm pool of worker threads, each trial a fresh machine where the toolstack vCPU
// cycles devices through assign/deassign/remove/add while guest vCPUs hit config space. Every trial ends in one
// outcome; counters, lock statistics and the first failure of each kind are kept.
//
// Strategies take turns trial by trial, in an order that rotates every round, after one untimed warm-up round:
// run one after another, the first paid for the pool's start-up and the JIT's warm-up and every strategy ran under
// a different load, so "vs baseline" depended on the order given (0.81x one way, 1.58x the other). Per block of
// rounds, every strategy ran in the same stretch of time: the ratio per block gives the spread a reader needs.

import { M, CTL, MAX_THREADS, LAYOUT, releaseMachine } from '../mem/machine.js';
import { OUTCOMES, type Outcome } from '../mem/crash.js';
import { lockStats, mergeLockHistograms, type LockStat, type LockHistograms } from '../sync/profile.js';
import { mergedTail, readRing, tstat, TSTAT } from '../trace/recorder.js';
import { bootMachine, type World } from '../lab/boot.js';
import { vcpuNames, lockNamer, describeEvent } from '../lab/names.js';
import { classifyTrial } from '../lab/classify.js';
import { XEN, xen } from '../xen/state.js';
import { runTrial, type TrialPool, type ActorSpec } from '../run/index.js';
import type { Strategy } from '../strategy/index.js';
import { stressModel, type StressShape } from '../lab/workload.js';
import type { VcpuArg } from '../../workers/vcpu.js';
import type { Shard } from './shard.js';
import type { TimelineEvent } from '../trace/recorder.js';

const VCPU_MODULE = new URL('../../workers/vcpu.js', import.meta.url).href;

export interface CampaignOptions {
  shape: StressShape;
  seed: number;
  inject: { iommu: number; map: number };
  /** Random delays at yield points: per mille of yield points, up to maxUs each (seeded per trial); none if absent. */
  jitter?: { permille: number; maxUs: number };
  /** Device cycles the toolstack runs per trial. */
  cyclesPerTrial: number;
  /** Per strategy: stop after this many trials; the whole campaign: after this much time (whichever comes first). */
  trials: number;
  timeMs: number;
  /** Untimed rounds before the first counted one (default 1): the pool and the JIT warm up on them. */
  warmup?: number;
  /** Run only the trials this shard owns (trial k, seed from k, belongs to shard k mod n). */
  shard?: Shard;
}

export interface FirstFailure {
  trial: number; outcome: Outcome; where: string; vcpu: string; message: string;
  /** The last few events of every CPU, merged: the terminal's and JSON's quick look. */
  events: string[];
  /** The full flight record (every CPU's ring) a timeline is drawn from. */
  record: { cpuNames: string[]; lockClasses: string[]; crashCpu?: number; events: TimelineEvent[] };
}

export interface StrategyTotals {
  strategy: string;
  trials: number;
  durationMs: number;
  outcomes: Record<Outcome, number>;
  guestAccesses: number;
  hypercalls: number;
  pendingDone: number;
  adds: number;
  removes: number;
  locks: LockStat[];
  firstFailures: FirstFailure[];
  lockdep: string[];
  replacedWorkers: number;
  /** Wait and hold distributions per lock class, merged from every CPU of every trial. */
  lockHist: Map<string, LockHistograms>;
  /** Guest accesses and trial time per block of ROUND_BLOCK rounds: every strategy's block b ran in the same stretch. */
  blocks: RoundBlocks;
}

/** Rounds per block: a block is long enough for a rate, and a campaign has enough blocks for a spread. */
export const ROUND_BLOCK = 8;
export interface RoundBlocks { size: number; accesses: number[]; ms: number[] }

export interface TrialLine {
  strategy: string; trial: number; outcome: Outcome; durationMs: number; accesses: number; hypercalls: number;
  where?: string; vcpu?: string; message?: string;
}

export function emptyTotals(strategy: string): StrategyTotals {
  return {
    strategy, trials: 0, durationMs: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    guestAccesses: 0, hypercalls: 0, pendingDone: 0, adds: 0, removes: 0, locks: [], firstFailures: [], lockdep: [], replacedWorkers: 0, lockHist: new Map(),
    blocks: { size: ROUND_BLOCK, accesses: [], ms: [] },
  };
}

function mergeLocks(into: LockStat[], add: LockStat[]): void {
  for (const s of add) {
    const t = into.find((x) => x.name === s.name);
    if (!t) { into.push({ ...s }); continue; }
    t.acquisitions += s.acquisitions; t.contended += s.contended;
    t.totalWaitNs += s.totalWaitNs; t.totalHoldNs += s.totalHoldNs;
    t.maxWaitNs = Math.max(t.maxWaitNs, s.maxWaitNs); t.maxHoldNs = Math.max(t.maxHoldNs, s.maxHoldNs);
  }
}

function actorsFor(world: World, seed: number, cycles: number): ActorSpec[] {
  const actors: ActorSpec[] = [];
  world.vcpus.forEach((vs, d) => vs.forEach((_, i) => {
    const arg: VcpuArg = { world, domain: d, vcpu: i, seed: (seed ^ Math.imul(actors.length + 1, 0x9e3779b1)) >>> 0, iterations: d === 0 && i === 0 ? cycles : 1_000_000 };
    actors.push({ module: VCPU_MODULE, export: d === 0 && i === 0 ? 'toolstack' : 'guest', arg });
  }));
  return actors;
}

export class Campaign {
  private interrupted = false;
  private current: (() => void) | undefined;

  constructor(private readonly pool: TrialPool, private readonly o: CampaignOptions) {
    const threads = o.shape.vcpus * (1 + o.shape.domus);
    if (threads > MAX_THREADS - 1) throw new RangeError(`${threads} vCPUs in all: at most ${MAX_THREADS - 1}`);
  }

  /** Ctrl-C: finish nothing more; the trial under way is stopped and not counted. */
  interrupt(): void { this.interrupted = true; this.current?.(); }
  get wasInterrupted(): boolean { return this.interrupted; }

  /** One strategy alone (tests, and a campaign of one). */
  async runStrategy(s: Strategy, onTrial: (line: TrialLine, totals: StrategyTotals) => void): Promise<StrategyTotals> {
    return (await this.run([s], onTrial))[0];
  }

  /** Every strategy, round after round: one trial each per round, the order rotating by one each round. */
  async run(strategies: Strategy[], onTrial: (line: TrialLine, totals: StrategyTotals) => void): Promise<StrategyTotals[]> {
    const all = strategies.map((s) => ({ s, totals: emptyTotals(s.name), lockdep: new Set<string>() }));
    const replacedBefore = this.pool.replacedWorkers;
    // Warm-up trials use seeds no counted trial uses (below the campaign's), and count nowhere.
    for (let w = 0; w < (this.o.warmup ?? 1) && !this.interrupted; w++) {
      for (const x of all) if (!this.interrupted) await this.trial(x.s, -1 - w, undefined);
    }
    const started = performance.now();
    const step = this.o.shard?.count ?? 1;
    for (let round = 0, trial = this.o.shard?.index ?? 0; trial < this.o.trials && !this.interrupted; round++, trial += step) {
      for (let k = 0; k < all.length && !this.interrupted; k++) {
        if (performance.now() - started >= this.o.timeMs) return this.finish(all, replacedBefore);
        const x = all[(round + k) % all.length];
        const line = await this.trial(x.s, trial, { totals: x.totals, lockdep: x.lockdep, block: Math.floor(round / ROUND_BLOCK) });
        if (line) onTrial(line, x.totals);
      }
    }
    return this.finish(all, replacedBefore);
  }

  private finish(all: Array<{ totals: StrategyTotals; lockdep: Set<string> }>, replacedBefore: number): StrategyTotals[] {
    for (const x of all) x.totals.lockdep = [...x.lockdep];
    // Worker replacements are the pool's, shared by the strategies that took turns on it.
    const replaced = this.pool.replacedWorkers - replacedBefore;
    all.forEach((x, i) => { x.totals.replacedWorkers = i === 0 ? replaced : 0; });
    return all.map((x) => x.totals);
  }

  /** One trial; counted into `into` unless it is a warm-up (then undefined is returned). */
  private async trial(s: Strategy, trial: number, into: { totals: StrategyTotals; lockdep: Set<string>; block: number } | undefined): Promise<TrialLine | undefined> {
    const seed = (this.o.seed + trial * 7919) >>> 0;
    const { machine, world } = bootMachine(stressModel(this.o.shape, s.name, seed, this.o.inject));
    this.current = () => Atomics.store(M, CTL.STOP, 1);
    const res = await runTrial(this.pool, machine, actorsFor(world, seed, this.o.cyclesPerTrial), {
      mode: 'free', jitter: this.o.jitter && { ...this.o.jitter, seed },
      budgetMs: 20_000, hangMs: 3000, lockName: lockNamer(world),
    });
    this.current = undefined;
    if (this.interrupted || !into) { if (res.aborted === 0) releaseMachine(machine); return undefined; }
    const line = record(into.totals, into.lockdep, res, world, trial, s.name);
    const b = into.totals.blocks;
    while (b.accesses.length <= into.block) { b.accesses.push(0); b.ms.push(0); }
    b.accesses[into.block] += line.accesses;
    b.ms[into.block] += line.durationMs;
    if (res.aborted === 0) releaseMachine(machine); // read out: its buffer serves the next trial
    return line;
  }
}

/** Count a finished trial into its strategy's totals; its line for --jsonl and the progress display. */
function record(totals: StrategyTotals, lockdep: Set<string>, res: Awaited<ReturnType<typeof runTrial>>, world: World, trial: number, strategy: string): TrialLine {
  const names = vcpuNames(world);
  const { outcome, where, vcpu, message } = classifyTrial(res, world, names);
  const threads = world.vcpus.flat().length;
  let accesses = 0, hypercalls = 0;
  for (let c = 0; c < threads; c++) { accesses += M[tstat(c, TSTAT.ACCESSES)]; hypercalls += M[tstat(c, TSTAT.HYPERCALLS)]; }
  totals.trials++;
  totals.durationMs += res.durationMs;
  totals.outcomes[outcome]++;
  totals.guestAccesses += accesses;
  totals.hypercalls += hypercalls;
  totals.pendingDone += M[xen(XEN.pending_done)];
  totals.adds += M[xen(XEN.adds)];
  totals.removes += M[xen(XEN.removes)];
  mergeLocks(totals.locks, lockStats());
  for (const t of res.threads) { for (const r of t.lockdep) lockdep.add(r.message); mergeLockHistograms(totals.lockHist, t.lockHist); }
  if (outcome !== 'ok' && !totals.firstFailures.some((f) => f.outcome === outcome)) {
    const label = (c: number): string => names[c] ?? `cpu${c}`;
    const events = mergedTail(threads, 10).map((e) => describeEvent(e, label));
    const full = Array.from({ length: threads }, (_, c) => readRing(c)).flat().sort((x, y) => x.seq - y.seq).map((e) => ({ ...e, label: describeEvent(e, label) }));
    totals.firstFailures.push({ trial, outcome, where, vcpu, message, events,
      record: { cpuNames: Array.from({ length: threads }, (_, c) => label(c)), lockClasses: [...LAYOUT.lockClasses], crashCpu: res.crash?.cpu, events: full } });
  }
  return { strategy, trial, outcome, durationMs: Math.round(res.durationMs * 100) / 100, accesses, hypercalls, ...(outcome !== 'ok' ? { where, vcpu, message } : {}) };
}
