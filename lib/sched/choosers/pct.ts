// PCT (Burckhardt et al., "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010):
// threads get random distinct priorities d..d+n-1; d-1 change points are drawn uniformly from [1, k] (k = the
// estimated number of decisions); the highest-priority runnable thread always runs; when the run reaches the i-th
// change point, the thread running there drops to priority d-1-i, below every other. A bug of depth d is found
// with probability at least 1/(n k^(d-1)) per run. Steps are real choices only (more than one runnable thread), so
// a change point never falls on a forced decision; a yielding thread (a retry loop's backoff) drops below every
// other, as CHESS does, so PCT cannot livelock it against the holder it waits for.

import { M } from '../../mem/machine.js';
import { SCHED_HEADER, schedBase, SCHED_SLOT, slot, rand, seedState } from '../state.js';
import { PCT_MAX_CHANGE_POINTS } from '../state.js';
import type { Chooser } from './chooser.js';

export const pctChooser: Chooser = {
  id: 1,
  name: 'pct',
  setup(o) {
    const n = o.threads, d = o.pctDepth, k = Math.max(1, o.pctLength);
    M[schedBase + SCHED_HEADER.RNG] = seedState(o.seed);
    M[schedBase + SCHED_HEADER.PCT_DEPTH] = d;
    M[schedBase + SCHED_HEADER.PCT_LENGTH] = k;
    // Random distinct initial priorities d..d+n-1 (Fisher-Yates).
    const prio = Array.from({ length: n }, (_, i) => d + i);
    for (let i = n - 1; i > 0; i--) {
      const j = rand() % (i + 1);
      [prio[i], prio[j]] = [prio[j], prio[i]];
    }
    for (let c = 0; c < n; c++) M[slot(c) + SCHED_SLOT.PRIO] = prio[c];
    // d-1 distinct change points in [1, k], ascending.
    const want = Math.min(d - 1, k, PCT_MAX_CHANGE_POINTS);
    const cps = new Set<number>();
    while (cps.size < want) cps.add(1 + (rand() % k));
    const sorted = [...cps].sort((a, b) => a - b);
    sorted.forEach((cp, i) => { M[schedBase + SCHED_HEADER.PCT_CP + i] = cp; });
    M[schedBase + SCHED_HEADER.PCT_NCP] = sorted.length;
    M[schedBase + SCHED_HEADER.PCT_NEXT] = 0;
    M[schedBase + SCHED_HEADER.PCT_CHOICES] = 0;
  },
  choose(runnable, current, _step, yielding) {
    if ((runnable & (runnable - 1)) === 0) return 31 - Math.clz32(runnable);   // forced: not a step of PCT's
    const n = M[schedBase + SCHED_HEADER.NTHREADS];
    if (yielding && current >= 0) {
      let lowest = Infinity;
      for (let c = 0; c < n; c++) lowest = Math.min(lowest, M[slot(c) + SCHED_SLOT.PRIO]);
      M[slot(current) + SCHED_SLOT.PRIO] = lowest - 1;
    }
    const step = M[schedBase + SCHED_HEADER.PCT_CHOICES]++;
    const d = M[schedBase + SCHED_HEADER.PCT_DEPTH], ncp = M[schedBase + SCHED_HEADER.PCT_NCP];
    let next = M[schedBase + SCHED_HEADER.PCT_NEXT];
    while (next < ncp && M[schedBase + SCHED_HEADER.PCT_CP + next] <= step) {
      if (current >= 0) M[slot(current) + SCHED_SLOT.PRIO] = d - 1 - next;
      next++;
    }
    M[schedBase + SCHED_HEADER.PCT_NEXT] = next;
    let best = -1, bestPrio = -Infinity;
    for (let c = 0, m = runnable; m !== 0; c++, m >>>= 1) {
      if ((m & 1) && M[slot(c) + SCHED_SLOT.PRIO] > bestPrio) { best = c; bestPrio = M[slot(c) + SCHED_SLOT.PRIO]; }
    }
    return best;
  },
};
