// A trial's start deadline in the time its CPUs could run, not in wall-clock time. A cold pool's workers load the
// lab's modules, the scenario and the strategy before their CPU checks in: a fraction of a second on a quiet machine,
// but under another load of 16-20 on 2 cores each thread gets a tenth of a core, and 10 s of wall clock was about
// 1 s of start. CPUs still loading were reported as never started, and the command died (TrialError) with what it
// had measured (issue 31: reviewer, shard and controls tests that passed alone).

import fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

const CORES = availableParallelism();
/** How often the machine's runnable count is read while starts are awaited. */
const SAMPLE_MS = 100;

/** Threads runnable on the machine now (/proc/loadavg's "running/total"), else the 1-minute load average. */
function runnable(): number {
  try {
    const m = / (\d+)\//.exec(fs.readFileSync('/proc/loadavg', 'latin1'));
    if (m) return Number(m[1]);
  } catch { /* not Linux: the average will do */ }
  return loadavg()[0];
}

/** The share of a core one runnable thread gets now: 1 while there is a core for every runnable thread. */
export function coreShare(): number { return Math.min(1, CORES / Math.max(1, runnable())); }

let share = 1, sampledAt = -Infinity;
/** The core share, read from the machine at most every SAMPLE_MS by any trial: a trial's start costs no system call. */
function currentShare(): number {
  const now = performance.now();
  if (now - sampledAt >= SAMPLE_MS) { share = coreShare(); sampledAt = now; }
  return share;
}

/**
 * Milliseconds of could-run time since the clock was made: wall time weighted by the core share. On a quiet machine
 * it is the wall clock; a start that is stuck (a worker that never takes its task) still runs out, only later in
 * wall time when the machine is crowded.
 */
export function startClock(shareNow: () => number = currentShare): { ms(): number; wallMs(): number } {
  const t0 = performance.now();
  let last = t0, total = 0;
  return {
    ms() {
      const now = performance.now();
      total += (now - last) * shareNow();
      last = now;
      return total;
    },
    wallMs: () => performance.now() - t0,
  };
}
