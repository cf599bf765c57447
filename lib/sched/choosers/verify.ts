// The model checker's chooser (lib/verify): follow a forced prefix of decisions, then the deterministic default —
// keep running the thread at the decision point (no preemption); when it blocked, ended or is yielding (a retry
// loop's backoff), the next runnable thread after it in cpu order. A run is thus fixed by its prefix alone.

import { M } from '../../mem/machine.js';
import { SCHED_HEADER, schedBase, LOG } from '../state.js';
import { CHOOSE_DIVERGED, type Chooser } from './chooser.js';

export const verifyChooser: Chooser = {
  id: 3,
  name: 'verify',
  setup(o) {
    const d = o.replay ?? new Uint8Array(0);
    LOG.set(d, 0);
    M[schedBase + SCHED_HEADER.REPLAY_LEN] = d.length;
  },
  choose(runnable, current, step, yielding) {
    if (step < M[schedBase + SCHED_HEADER.REPLAY_LEN]) {
      const want = LOG[step];
      return (runnable >>> want) & 1 ? want : CHOOSE_DIVERGED;
    }
    return defaultPick(runnable, current, yielding, M[schedBase + SCHED_HEADER.NTHREADS]);
  },
};

/** The default continuation (shared with the explorer, which must predict it). */
export function defaultPick(runnable: number, current: number, yielding: boolean, n: number): number {
  if (current >= 0 && !yielding && (runnable >>> current) & 1) return current;
  for (let k = 1; k <= n; k++) {
    const c = (current + k + n) % n;
    if ((runnable >>> c) & 1) return c;
  }
  return -1;
}
