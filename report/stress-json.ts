// A stress campaign's result as data: what --json writes, what the terminal summary, the HTML report and `merge`
// are made from. Shards merge into one campaign: counts add up, lock histograms merge, and the first failure of
// each kind is the one of the lowest trial number (trial k runs seed + 7919 k in whichever shard owns it).

import os from 'node:os';
import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import type { LockHistograms } from '../lib/sync/profile.js';
import { encodeLockHistograms, decodeLockHistograms, type EncodedLockHistograms } from './lock-histograms.js';
import type { FirstFailure, StrategyTotals } from '../lib/explore/campaign.js';

export interface StressLockJson { name: string; acquisitions: number; contended: number; maxWaitNs: number; maxHoldNs: number }

export interface StressResultJson {
  strategy: string; trials: number; durationMs: number; outcomes: Record<Outcome, number>;
  guestAccesses: number; hypercalls: number; pendingDone: number; addRemove: number;
  locks: StressLockJson[];
  /** Wait and hold HdrHistograms per lock class (compressed base64), merged over every CPU and trial. */
  lockHistograms: EncodedLockHistograms;
  firstFailures: FirstFailure[];
  lockdep: string[];
  replacedWorkers: number;
}

export interface StressJson {
  command: 'stress'; cores: number; interrupted: boolean; seed: number;
  shape: { vcpus: number; domus: number; devices: number; msix?: boolean };
  inject: { iommu: number; map: number };
  shard?: { index: number; count: number };
  /** --jitter's shape, if on; the load average at start and end (other work on the machine skews throughput). */
  jitter?: { permille: number; maxUs: number } | null;
  load?: { start: number[]; end: number[] };
  results: StressResultJson[];
}

export function stressJson(all: StrategyTotals[], o: Omit<StressJson, 'command' | 'cores' | 'results'>): StressJson {
  return {
    command: 'stress', cores: os.availableParallelism(), ...o,
    results: all.map((t) => ({
      strategy: t.strategy, trials: t.trials, durationMs: Math.round(t.durationMs), outcomes: t.outcomes,
      guestAccesses: t.guestAccesses, hypercalls: t.hypercalls, pendingDone: t.pendingDone, addRemove: t.adds + t.removes,
      locks: t.locks.filter((l) => l.name !== 'heap').map((l) => ({ name: l.name, acquisitions: l.acquisitions, contended: l.contended, maxWaitNs: Math.round(l.maxWaitNs), maxHoldNs: Math.round(l.maxHoldNs) })),
      lockHistograms: encodeLockHistograms(new Map([...t.lockHist].filter(([name]) => name !== 'heap'))),
      firstFailures: t.firstFailures, lockdep: t.lockdep, replacedWorkers: t.replacedWorkers,
    })),
  };
}

/** The decoded histograms of one strategy's result. */
export function histogramsOf(r: StressResultJson): Map<string, LockHistograms> {
  const m = new Map<string, LockHistograms>();
  decodeLockHistograms(m, r.lockHistograms);
  return m;
}

function mergeResult(a: StressResultJson, b: StressResultJson): StressResultJson {
  const outcomes = { ...a.outcomes };
  for (const o of OUTCOMES) outcomes[o] = (outcomes[o] ?? 0) + (b.outcomes[o] ?? 0);
  const locks = a.locks.map((l) => ({ ...l }));
  for (const l of b.locks) {
    const t = locks.find((x) => x.name === l.name);
    if (!t) { locks.push({ ...l }); continue; }
    t.acquisitions += l.acquisitions; t.contended += l.contended;
    t.maxWaitNs = Math.max(t.maxWaitNs, l.maxWaitNs); t.maxHoldNs = Math.max(t.maxHoldNs, l.maxHoldNs);
  }
  const hist = histogramsOf(a);
  decodeLockHistograms(hist, b.lockHistograms);
  const firsts = new Map<Outcome, FirstFailure>();
  for (const f of [...a.firstFailures, ...b.firstFailures]) { const k = firsts.get(f.outcome); if (!k || f.trial < k.trial) firsts.set(f.outcome, f); }
  return {
    strategy: a.strategy, trials: a.trials + b.trials, durationMs: a.durationMs + b.durationMs, outcomes,
    guestAccesses: a.guestAccesses + b.guestAccesses, hypercalls: a.hypercalls + b.hypercalls, pendingDone: a.pendingDone + b.pendingDone,
    addRemove: a.addRemove + b.addRemove, locks, lockHistograms: encodeLockHistograms(hist),
    firstFailures: [...firsts.values()].sort((x, y) => x.trial - y.trial), lockdep: [...new Set([...a.lockdep, ...b.lockdep])],
    replacedWorkers: (a.replacedWorkers ?? 0) + (b.replacedWorkers ?? 0),
  };
}

/** Shards (or campaigns of the same machine shape) into one. */
export function mergeStress(parts: StressJson[]): StressJson {
  const [first] = parts;
  for (const p of parts) {
    if (JSON.stringify(p.shape) !== JSON.stringify(first.shape)) throw new Error(`cannot merge stress runs of different machines: ${JSON.stringify(first.shape)} and ${JSON.stringify(p.shape)}`);
  }
  const by = new Map<string, StressResultJson>();
  for (const p of parts) for (const r of p.results) { const m = by.get(r.strategy); by.set(r.strategy, m ? mergeResult(m, r) : r); }
  return { command: 'stress', cores: first.cores, interrupted: parts.some((p) => p.interrupted), seed: first.seed, shape: first.shape, inject: first.inject, results: [...by.values()] };
}
