// lib/sched: yield points (mode.ts); controlled scheduling: the token protocol and decisions (controlled.ts), the
// start barrier (barrier.ts), the main thread's setup and readout (setup.ts); choosers; schedule strings.
export { yield_point, lock_yield, block_on, controlled, MODE_FREE, MODE_JITTER, MODE_CONTROLLED, SCHED } from './mode.js';
export { schedThreadStart, schedThreadDone, stopAll, setEndBell, setArriveBell } from './controlled.js';
export { startBarrier, checkedIn, checkIn } from './barrier.js';
export {
  prepareFree, prepareControlled, scheduleString, scheduleStringV2, divergenceInfo,
  schedEnd, schedEndAddr, schedSteps, schedHandoffs, schedThreads, schedStarted, threadSchedState, decisionCapacity, lateArrivals,
  DEFAULT_MAX_STEPS, DEFAULT_PCT_DEPTH,
  type ControlledOptions, type ControlledSettings, type FreeOptions, type ThreadSchedState,
} from './setup.js';
export { END_RUNNING, END_DONE, END_DEADLOCK, END_HANG, END_DIVERGED, END_STOPPED, END_NAMES, SCHED_HEADER } from './state.js';
export { CHOOSERS, chooserByName, type Chooser, type ChooserName, type ChooserSetup } from './choosers/index.js';
export { siteDigest } from './fault.js';
export { parseSchedule, formatSchedule, formatScheduleV2, threadLetter, ScheduleError, ScheduleDivergence, SCHEDULE_VERSION, type Schedule } from './schedule.js';
