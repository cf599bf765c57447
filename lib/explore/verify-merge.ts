// Shards of one verify search merged back into one result (verify --jobs, verify --merge).

import type { Outcome } from '../mem/crash.js';
import type { VerifyResult, FailureReport, OutcomeStat } from './verify.js';

export type CellJson = Omit<VerifyResult, 'bound' | 'firstFailure' | 'firstForbidden'> & { bound: number | 'all'; firstFailure: FailureReport | null; firstForbidden: FailureReport | null };

/** Shards of one search (same scenario, strategy and bounds) -> one result: sums, unions, the best failure. */
export function mergeCells(cells: CellJson[]): VerifyResult {
  const a = cells[0];
  const key = (c: CellJson): string => JSON.stringify([c.scenario, c.strategy, c.bound, c.reduce, c.sleep, c.kinds, c.maxFaults, c.shard?.count]);
  for (const c of cells) if (key(c) !== key(a)) throw new Error(`cannot merge ${c.scenario}/${c.strategy} searches with different bounds or shard counts`);
  const count = a.shard?.count ?? 1;
  const have = new Set(cells.map((c) => c.shard?.index ?? 0));
  const outcomes: Partial<Record<Outcome, OutcomeStat>> = {};
  for (const c of cells) for (const [o, s] of Object.entries(c.outcomes) as Array<[Outcome, OutcomeStat]>) {
    const m = outcomes[o];
    if (!m) { outcomes[o] = { ...s, where: [...s.where] }; continue; }
    m.runs += s.runs;
    for (const w of s.where) if (!m.where.includes(w)) m.where.push(w);
    if (s.minPreemptions < m.minPreemptions) { m.minPreemptions = s.minPreemptions; m.schedule = s.schedule; }
  }
  // Ties go to the lowest shard, not to whichever child finished first (verify --jobs): the verdict line repeats.
  const byShard = [...cells].sort((x, y) => (x.shard?.index ?? 0) - (y.shard?.index ?? 0));
  const best = (fs: Array<FailureReport | null>): FailureReport | null =>
    fs.filter((f): f is FailureReport => f !== null).sort((x, y) => x.preemptions - y.preemptions)[0] ?? null;
  const complete = cells.every((c) => c.complete) && have.size === count;
  return {
    ...a, bound: a.bound === 'all' ? Infinity : a.bound, shard: undefined,
    runs: sum(cells.map((c) => c.runs)), runsMade: sum(cells.map((c) => c.runsMade)), sleepCut: sum(cells.map((c) => c.sleepCut ?? 0)),
    runsByBound: a.runsByBound.map((_, i) => sum(cells.map((c) => c.runsByBound[i] ?? 0))),
    complete, cutBy: complete ? undefined : cells.find((c) => c.cutBy)?.cutBy ?? 'interrupt',
    outcomes, digests: [...new Set(cells.flatMap((c) => c.digests))].sort(), forbidden: sum(cells.map((c) => c.forbidden)),
    firstFailure: best(byShard.map((c) => c.firstFailure)), firstForbidden: best(byShard.map((c) => c.firstForbidden)),
    ms: Math.max(...cells.map((c) => c.ms)),
  };
}

const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
