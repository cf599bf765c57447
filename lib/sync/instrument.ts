// The one flag the lock fast paths test: is anything watching this thread's lock operations (lock profiling,
// lockdep, flight-recorder lock events) or scheduling them (controlled mode, jitter)? When nothing is, spin_lock,
// spin_unlock, read_lock, read_unlock, write_lock and write_unlock take a path with no instrumentation at all; the
// instrumented paths are unchanged.

import { CTL, M, onAttach } from '../mem/machine.js';
import { profiling, lockTracing, setProfiling as setProfilingFlag, setLockTracing as setLockTracingFlag } from './profile.js';
import { lockdepOn, setLockdep as setLockdepFlag } from './lockdep.js';
import { SCHED, MODE_FREE, MODE_CONTROLLED } from '../sched/mode.js';
import { setExactReleases } from '../trace/recorder.js';

export let lockHooks = true;
/** lockHooks as a word (1/0) for the hottest paths: a constant typed array is read without a module cell's hole check. */
export const lockHooksWord = new Int32Array(1);

export function refreshLockHooks(): void {
  const mode = M[CTL.SCHED + SCHED.MODE];
  lockHooks = profiling || lockTracing || lockdepOn || mode !== MODE_FREE;
  lockHooksWord[0] = lockHooks ? 1 : 0;
  // One thread at a time: every handoff is a happens-before edge the releases' read stamps would not see.
  setExactReleases(mode === MODE_CONTROLLED);
}
// Registered after profile.ts, lockdep.ts and mode.ts (imported above), so it sees their flags of this attach.
onAttach(refreshLockHooks);

/** Switch lock profiling for this thread (and, through the control block, for threads attached later). */
export function setProfiling(on: boolean): void { setProfilingFlag(on); refreshLockHooks(); }
/** Switch flight-recorder lock events for this thread (and threads attached later). */
export function setLockTracing(on: boolean): void { setLockTracingFlag(on); refreshLockHooks(); }
/** Switch lock-order checking for this thread (and threads attached later). */
export function setLockdep(on: boolean): void { setLockdepFlag(on); refreshLockHooks(); }
