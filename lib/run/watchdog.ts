// The free-running watchdog (main thread): every few ms it samples the CPUs' progress counters (each bumps its own
// on every lock acquisition, lib/sync/held.ts) and the published wait-for graph.
//  - the same cycle of waiters in two consecutive samples -> deadlock, with the cycle;
//  - no progress for hangMs and no cycle -> hang, listing the stuck CPUs and what they wait for or last did.

import { MAX_THREADS } from '../mem/machine.js';
import { progressSum } from '../sync/index.js';
import { snapshotWaits, findCycle, cycleKey, describeCycle, describeStuck, type LockNamer } from './waitfor.js';

export type Verdict =
  | { kind: 'deadlock'; cycle: string; cpus: number[] }
  | { kind: 'hang'; reason: 'step-budget' | 'no-progress' | 'wall-clock'; detail: string }
  /** Controlled replay: the run left the schedule it was asked to follow (reported by the driver at the end). */
  | { kind: 'diverged' };

export class Watchdog {
  private lastKey = '';
  private progress: number;
  private progressAt: number;

  constructor(private readonly hangMs: number, now: number, private readonly namer?: LockNamer) {
    this.progress = progressSum(MAX_THREADS);
    this.progressAt = now;
  }

  /** `all`: the trial's CPUs; `running`: those whose task has not come back yet. */
  sample(now: number, all: readonly number[], running: readonly number[]): Verdict | undefined {
    const snap = snapshotWaits(all);
    const cycle = findCycle(snap);
    const key = cycle ? cycleKey(cycle) : '';
    const persisted = cycle !== undefined && key === this.lastKey;
    this.lastKey = key;
    if (persisted) return { kind: 'deadlock', cycle: describeCycle(cycle, this.namer), cpus: cycle.map((w) => w.cpu) };
    const p = progressSum(MAX_THREADS);
    if (p !== this.progress) { this.progress = p; this.progressAt = now; return undefined; }
    if (cycle === undefined && now - this.progressAt > this.hangMs && running.length > 0) {
      return { kind: 'hang', reason: 'no-progress', detail: `no progress for ${Math.round(now - this.progressAt)} ms: ${describeStuck(snap, this.namer, running)}` };
    }
    return undefined;
  }
}
