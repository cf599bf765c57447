// Replay: feed the decisions of a schedule string back, one per decision point; a decision naming a thread that
// is not runnable there means the run has diverged from the one that was recorded.

import { M } from '../../mem/machine.js';
import { SCHED_HEADER, schedBase, LOG } from '../state.js';
import { CHOOSE_DIVERGED, CHOOSE_EXHAUSTED, type Chooser } from './chooser.js';

export const replayChooser: Chooser = {
  id: 2,
  name: 'replay',
  setup(o) {
    const d = o.replay ?? new Uint8Array(0);
    LOG.set(d, 0);
    M[schedBase + SCHED_HEADER.REPLAY_LEN] = d.length;
  },
  choose(runnable, _current, step) {
    if (step >= M[schedBase + SCHED_HEADER.REPLAY_LEN]) return CHOOSE_EXHAUSTED;
    const want = LOG[step];
    return (runnable >>> want) & 1 ? want : CHOOSE_DIVERGED;
  },
};
