// A trial's start deadline in the time its CPUs could run, not in wall-clock time. A cold pool's workers load the
// lab's modules, the scenario and the strategy before their CPU checks in: a fraction of a second on a quiet machine,
// but under another load of 16-20 on 2 cores each thread gets a tenth of a core, and 10 s of wall clock was about
// 1 s of start. CPUs still loading were reported as never started, and the command died (TrialError) with what it
// had measured (issue 31: reviewer, shard and controls tests that passed alone).

import fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

const CORES = availableParallelism();
/** How often the machine's runnable count is read while a start is awaited. */
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

/**
 * Milliseconds of could-run time since the clock was made: wall time weighted by the core share, sampled every
 * SAMPLE_MS. On a quiet machine it is the wall clock; a start that is stuck (a worker that never takes its task)
 * still runs out, only later in wall time when the machine is crowded.
 */
export function startClock(share: () => number = coreShare): { ms(): number; wallMs(): number } {
  const t0 = performance.now();
  let last = t0, sampled = t0, s = share(), total = 0;
  return {
    ms() {
      const now = performance.now();
      total += (now - last) * s;
      last = now;
      if (now - sampled >= SAMPLE_MS) { s = share(); sampled = now; }
      return total;
    },
    wallMs: () => performance.now() - t0,
  };
}
