// Random walk: at every decision, a uniformly random runnable thread (seeded xorshift32 in shared memory).

import { M } from '../../mem/machine.js';
import { SCHED_HEADER, schedBase, rand, seedState, popcount, nthBit } from '../state.js';
import type { Chooser } from './chooser.js';

export const randomChooser: Chooser = {
  id: 0,
  name: 'random',
  setup(o) { M[schedBase + SCHED_HEADER.RNG] = seedState(o.seed); },
  choose(runnable) {
    const n = popcount(runnable);
    return n === 1 ? nthBit(runnable, 0) : nthBit(runnable, rand() % n);
  },
};
