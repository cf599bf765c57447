// The machine's own words, declared (lib/mem/layout.ts): the control block at word 0, the per-thread lines other
// layers publish into, and the list of regions createMachine lays out one after another. Upper layers that own
// some of these words (the scheduler's header and slots, its control words, lockdep's) declare their contents
// themselves, against the capacity reserved here: a layout that outgrows its reservation throws when its module
// loads, before any trial runs.

import { defineLayout, LINE_WORDS } from './layout.js';

export const MAX_THREADS = 16;
export const HELD_MAX = 8;          // held-lock slots published per thread
export const RING_ENTRIES = 256;    // flight recorder entries per thread (power of two)
export const RING_ENTRY_WORDS = 4;  // seq, event, a, b
export const QUARANTINE = 128;      // freed blocks held back from reuse (KASAN-style)
export const MAX_SIZE_CLASS = 512;  // exact-size free lists up to this many words
/** Region 'sched' (lib/sched/state.ts): a header, one slot per thread, then one byte per decision. */
export const SCHED_HEADER_WORDS = 128;
export const SCHED_SLOT_WORDS = LINE_WORDS;
export const SCHED_DECISIONS_DEFAULT = 1 << 18;

/**
 * Control block (lab machinery, not Xen state). Line 0 is read-mostly (STOP is polled by every waiter); SEQ gets a
 * line of its own (one atomic add per recorded event); the heap allocator's words share a line, written under
 * its lock. Progress counters are per thread (HELD).
 */
export const CTL = defineLayout('ctl', {
  STOP: 1,                              // non-zero: the trial is over, every thread unwinds
  OUTCOME: 1,                           // first classified outcome code + 1 (0 = none yet); set once by CAS
  OUTCOME_CPU: 1,
  THREADS_DONE: 1,
  FLAGS: 1,                             // lock profiling / lockdep / heap switches (lib/sync/profile.ts, heap.ts)
  SCHED: { words: 16, line: 'start' },  // lib/sched/mode.ts SCHED_CTL
  LOCKDEP: { words: 8, line: 'start' }, // lib/sync/lockdep.ts LOCKDEP_CTL
  SEQ: { line: 'alone' },               // global event sequence (flight recorder ordering)
  HEAP_LOCK: { line: 'start' },
  HEAP_BUMP: 1,
  HEAP_QHEAD: 1,
  HEAP_QCOUNT: 1,
  HEAP_LIVE: 1,
  HEAP_SLEEPERS: 1,                     // threads asleep on HEAP_LOCK: its unlock notifies only when there are any
  NATIVE_BASE: 2,                       // the C backend's address of word 0 (lo, hi): C's pointers are it + 4 * word
  NATIVE_CODE: 2,                       // and of its code (lo, hi): function pointers C keeps on the heap (handlers)
});
export const CTL_WORDS = CTL.words;

/** Per-thread published lock state (region 'held', one line per CPU): what the watchdog's wait-for graph reads. */
export const HELD = defineLayout('held', {
  WAITING: 1,       // lock word this CPU waits on (0: none)
  DEPTH: 1,
  PROGRESS: 1,      // acquisitions so far: the watchdog sums the CPUs
  LOCKS: HELD_MAX,
}, { lined: true });
export const HELD_WORDS = HELD.words;

/** Per-thread counters (region 'threadStat', one line per CPU); RING_IDX is the flight recorder's write index. */
export const TSTAT = defineLayout('threadStat', {
  RING_IDX: 1, OPS: 1, ACCESSES: 1, HYPERCALLS: 1, PENDING_DONE: 1,
}, { lined: true });

/** One lock class's profile in one CPU's row (Float64 fields, region 'profile'; lib/sync/profile.ts). */
export const LOCK_PROFILE = defineLayout('lockProfile', {
  ACQ: 2, CONTENDED: 2, WAIT_SUM: 2, WAIT_MAX: 2, HOLD_SUM: 2, HOLD_MAX: 2,
});
/** Words of one CPU's profile row: whole lines, so CPUs counting their own acquisitions share none. */
export function profileRowWords(lockClasses: number): number {
  return Math.ceil(lockClasses * LOCK_PROFILE.words / LINE_WORDS) * LINE_WORDS;
}

export interface RegionDecl { readonly name: string; readonly words: number; readonly align: number }

/** The lab's fixed regions after the control block, in order. */
export function fixedRegions(lockClasses: number, schedDecisions: number): RegionDecl[] {
  return [
    { name: 'freelists', words: MAX_SIZE_CLASS + 1, align: 1 },
    { name: 'quarantine', words: QUARANTINE, align: 1 },
    { name: 'held', words: MAX_THREADS * HELD.words, align: LINE_WORDS },
    { name: 'lockdep', words: lockClasses * lockClasses, align: 1 },
    { name: 'ring', words: MAX_THREADS * RING_ENTRIES * RING_ENTRY_WORDS, align: LINE_WORDS },
    { name: 'profile', words: MAX_THREADS * profileRowWords(lockClasses), align: LINE_WORDS },
    { name: 'threadStat', words: MAX_THREADS * TSTAT.words, align: LINE_WORDS },
    { name: 'sched', words: SCHED_HEADER_WORDS + MAX_THREADS * SCHED_SLOT_WORDS + Math.ceil(schedDecisions / 4), align: LINE_WORDS },
  ];
}
