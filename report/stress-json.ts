// A stress campaign's result as data: what --json writes, what the terminal summary, the HTML report and `merge`
// are made from. Shards merge into one campaign: counts add up, lock histograms merge, and the first failure of
// each kind is the one of the lowest trial number (trial k runs seed + 7919 k in whichever shard owns it).

import os from 'node:os';
import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import type { LockHistograms } from '../lib/sync/profile.js';
import { encodeLockHistograms, decodeLockHistograms, type EncodedLockHistograms } from './lock-histograms.js';
import type { FirstFailure, StrategyTotals, RoundBlocks } from '../lib/explore/campaign.js';

export interface StressLockJson { name: string; acquisitions: number; contended: number; maxWaitNs: number; maxHoldNs: number }

export interface StressResultJson {
  /** strategyRef: how a command line names the strategy again when it is not its name (a patch file's path, shell-quoted). */
  strategy: string; strategyRef?: string; trials: number; durationMs: number; outcomes: Record<Outcome, number>;
  guestAccesses: number; hypercalls: number; pendingDone: number; addRemove: number;
  locks: StressLockJson[];
  /** Wait and hold HdrHistograms per lock class (compressed base64), merged over every CPU and trial. */
  lockHistograms: EncodedLockHistograms;
  firstFailures: FirstFailure[];
  lockdep: string[];
  replacedWorkers: number;
  /** Guest accesses and trial milliseconds per block of rounds (strategies take turns): the ratio's spread. */
  blocks?: RoundBlocks;
}

export interface StressJson {
  command: 'stress'; cores: number; interrupted: boolean; seed: number;
  shape: { vcpus: number; domus: number; devices: number; msix?: boolean };
  inject: { iommu: number; map: number };
  /** --cycles, when given (the default is one cycle per device). */
  cycles?: number;
  shard?: { index: number; count: number };
  /** --jitter's shape, if on; the load average at start and end (other work on the machine skews throughput). */
  jitter?: { permille: number; maxUs: number } | null;
  load?: { start: number[]; end: number[] };
  results: StressResultJson[];
}

export function stressJson(all: StrategyTotals[], o: Omit<StressJson, 'command' | 'cores' | 'results'>, refs: Record<string, string> = {}): StressJson {
  return {
    command: 'stress', cores: os.availableParallelism(), ...o,
    results: all.map((t) => ({
      strategy: t.strategy, ...(refs[t.strategy] ? { strategyRef: refs[t.strategy] } : {}), trials: t.trials, durationMs: Math.round(t.durationMs), outcomes: t.outcomes,
      guestAccesses: t.guestAccesses, hypercalls: t.hypercalls, pendingDone: t.pendingDone, addRemove: t.adds + t.removes,
      locks: t.locks.filter((l) => l.name !== 'heap').map((l) => ({ name: l.name, acquisitions: l.acquisitions, contended: l.contended, maxWaitNs: Math.round(l.maxWaitNs), maxHoldNs: Math.round(l.maxHoldNs) })),
      lockHistograms: encodeLockHistograms(new Map([...t.lockHist].filter(([name]) => name !== 'heap'))),
      firstFailures: t.firstFailures, lockdep: t.lockdep, replacedWorkers: t.replacedWorkers,
      blocks: { size: t.blocks.size, accesses: t.blocks.accesses, ms: t.blocks.ms.map((x) => Math.round(x * 10) / 10) },
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
    strategy: a.strategy, ...(a.strategyRef ? { strategyRef: a.strategyRef } : {}), trials: a.trials + b.trials, durationMs: a.durationMs + b.durationMs, outcomes,
    guestAccesses: a.guestAccesses + b.guestAccesses, hypercalls: a.hypercalls + b.hypercalls, pendingDone: a.pendingDone + b.pendingDone,
    addRemove: a.addRemove + b.addRemove, locks, lockHistograms: encodeLockHistograms(hist),
    firstFailures: [...firsts.values()].sort((x, y) => x.trial - y.trial), lockdep: [...new Set([...a.lockdep, ...b.lockdep])],
    replacedWorkers: (a.replacedWorkers ?? 0) + (b.replacedWorkers ?? 0),
    ...(a.blocks && b.blocks && a.blocks.size === b.blocks.size ? { blocks: addBlocks(a.blocks, b.blocks) } : {}),
  };
}

/** Shards' block b ran in about the same stretch of their runs: added block by block. */
function addBlocks(a: RoundBlocks, b: RoundBlocks): RoundBlocks {
  const n = Math.max(a.accesses.length, b.accesses.length);
  const at = (xs: number[], i: number): number => xs[i] ?? 0;
  return { size: a.size, accesses: Array.from({ length: n }, (_, i) => at(a.accesses, i) + at(b.accesses, i)), ms: Array.from({ length: n }, (_, i) => Math.round((at(a.ms, i) + at(b.ms, i)) * 10) / 10) };
}

/**
 * A strategy's guest-access rate against baseline's: over the whole campaign, and per block of rounds (both ran in
 * the same stretch of time, so the machine's load cancels) as the median and the 10th-90th percentile range.
 */
export function ratioVsBase(t: StressResultJson, base: StressResultJson): { ratio: number; median?: number; lo?: number; hi?: number; n: number } {
  const rate = (n: number, ms: number): number => (ms > 0 ? n / ms : 0);
  const ratio = rate(base.guestAccesses, base.durationMs) > 0 ? rate(t.guestAccesses, t.durationMs) / rate(base.guestAccesses, base.durationMs) : 0;
  const a = t.blocks, b = base.blocks;
  if (!a || !b) return { ratio, n: 0 };
  const rs: number[] = [];
  for (let i = 0; i < Math.min(a.ms.length, b.ms.length); i++) {
    const rb = rate(b.accesses[i], b.ms[i]);
    if (a.ms[i] > 0 && rb > 0) rs.push(rate(a.accesses[i], a.ms[i]) / rb);
  }
  if (rs.length < 3) return { ratio, n: rs.length };
  rs.sort((x, y) => x - y);
  const q = (p: number): number => rs[Math.min(rs.length - 1, Math.max(0, Math.round(p * (rs.length - 1))))];
  return { ratio, median: q(0.5), lo: q(0.1), hi: q(0.9), n: rs.length };
}

/** Shards (or campaigns of the same machine shape) into one. */
export function mergeStress(parts: StressJson[]): StressJson {
  const [first] = parts;
  for (const p of parts) {
    if (JSON.stringify(p.shape) !== JSON.stringify(first.shape)) throw new Error(`cannot merge stress runs of different machines: ${JSON.stringify(first.shape)} and ${JSON.stringify(p.shape)}`);
  }
  const by = new Map<string, StressResultJson>();
  for (const p of parts) for (const r of p.results) { const m = by.get(r.strategy); by.set(r.strategy, m ? mergeResult(m, r) : r); }
  return {
    command: 'stress', cores: first.cores, interrupted: parts.some((p) => p.interrupted), seed: first.seed, shape: first.shape, inject: first.inject,
    ...(first.cycles !== undefined ? { cycles: first.cycles } : {}), ...(first.jitter ? { jitter: first.jitter } : {}), results: [...by.values()],
  };
}
