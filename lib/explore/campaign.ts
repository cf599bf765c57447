// A stress campaign: for each strategy, trial after trial on a warm pool of worker threads, each trial a fresh
// machine where the toolstack vCPU cycles devices through assign/deassign/remove/add while guest vCPUs hit config
// space. Every trial ends in one outcome; counters, lock statistics and the first failure of each kind are kept.

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
  /** Per strategy: stop after this many trials or this much time, whichever comes first. */
  trials: number;
  timeMs: number;
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
}

export interface TrialLine {
  strategy: string; trial: number; outcome: Outcome; durationMs: number; accesses: number; hypercalls: number;
  where?: string; vcpu?: string; message?: string;
}

export function emptyTotals(strategy: string): StrategyTotals {
  return {
    strategy, trials: 0, durationMs: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    guestAccesses: 0, hypercalls: 0, pendingDone: 0, adds: 0, removes: 0, locks: [], firstFailures: [], lockdep: [], replacedWorkers: 0, lockHist: new Map(),
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

  async runStrategy(s: Strategy, onTrial: (line: TrialLine, totals: StrategyTotals) => void): Promise<StrategyTotals> {
    const totals = emptyTotals(s.name);
    const started = performance.now();
    const replacedBefore = this.pool.replacedWorkers;
    const lockdep = new Set<string>();
    const step = this.o.shard?.count ?? 1;
    for (let trial = this.o.shard?.index ?? 0; trial < this.o.trials && performance.now() - started < this.o.timeMs && !this.interrupted; trial += step) {
      const seed = (this.o.seed + trial * 7919) >>> 0;
      const { machine, world } = bootMachine(stressModel(this.o.shape, s.name, seed, this.o.inject));
      this.current = () => Atomics.store(M, CTL.STOP, 1);
      const res = await runTrial(this.pool, machine, actorsFor(world, seed, this.o.cyclesPerTrial), {
        mode: 'free', jitter: this.o.jitter && { ...this.o.jitter, seed },
        budgetMs: 20_000, hangMs: 3000, lockName: lockNamer(world),
      });
      this.current = undefined;
      if (this.interrupted) break;
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
      onTrial({ strategy: s.name, trial, outcome, durationMs: Math.round(res.durationMs * 100) / 100, accesses, hypercalls,
        ...(outcome !== 'ok' ? { where, vcpu, message } : {}) }, totals);
      if (res.aborted === 0) releaseMachine(machine); // read out: its buffer serves the next trial
    }
    totals.lockdep = [...lockdep];
    totals.replacedWorkers = this.pool.replacedWorkers - replacedBefore;
    return totals;
  }
}
