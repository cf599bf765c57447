// The controlled scheduler's shared state (region 'sched'): whichever thread yields runs the chooser, so every word
// a chooser or the token protocol needs lives here, never in one thread's private memory.
//
//   header (SCHED_HEADER_WORDS) | one slot per thread (SCHED_SLOT_WORDS, a 64-byte line each) | decision log (bytes)

import { M, LAYOUT, region, onAttach, untouchedByRun, SCHED_HEADER_WORDS, SCHED_SLOT_WORDS, MAX_THREADS, type Layout } from '../mem/machine.js';
import { defineLayout } from '../mem/layout.js';
import { VERIFY_FAULTS } from '../mem/footprint.js';

export const PCT_MAX_CHANGE_POINTS = 32;

/** Header words (offsets from `schedBase`). */
export const SCHED_HEADER = defineLayout('sched header', {
  TOKEN: 1,        // thread that may run now (-1: none yet)
  STEP: 1,         // decisions made so far (= length of the decision log)
  MAX_STEPS: 1,    // step budget: one more decision than this ends the run as a hang
  CHOOSER: 1,      // chooser id (choosers/index.ts)
  RNG: 1,          // xorshift32 state of the random choosers
  PCT_DEPTH: 1,
  PCT_LENGTH: 1,   // PCT's estimate k of the run length (decisions)
  NTHREADS: 1,
  END: 1,          // END_* once the run is over from the scheduler's point of view (main waits on this word)
  REPLAY_LEN: 1,
  STARTED: 1,      // threads that reached schedThreadStart
  CHECKIN: 1,      // tasks that reached the start barrier (lib/run, both modes)
  DIV_STEP: 1,     // replay divergence: at which decision,
  DIV_WANT: 1,     //   which thread the schedule wanted (-1: the schedule ran out),
  DIV_RUNNABLE: 1, //   and the runnable set then (bit mask)
  PCT_NEXT: 1,     // next unused PCT change point
  HANDOFFS: 1,     // decisions that passed the token to another thread
  CAPACITY: 1,     // decision log capacity (bytes)
  SPIN: 1,         // how a waiting thread polls its wake word before sleeping on it: SPIN_AUTO, 0 (never) or a count of polls
  PCT_NCP: 1,      // number of PCT change points
  SEED: 1,
  CALLED: 1,       // CPUs a handoff called in (bit mask): their workers were woken only then (controlled.ts callIn)
  PCT_CP: { words: PCT_MAX_CHANGE_POINTS, line: 'start' }, // PCT change points, ascending
  SITE_HASH: { line: 'start' }, // digest of the run's sequence of sites, picks and runnable sets (schedule strings S2)
  YIELDING: 1,     // the thread at this decision point is retrying (backoff): switching away is no preemption
  PCT_CHOICES: 1,  // PCT's step count: decisions with more than one runnable thread (its change points count these)
  SPINNERS: 1,     // threads of the run polling their wake word now (SPIN_AUTO lets at most cores - 1 do so)
  FLT_N: { line: 'start' }, // outside verify: fault points met so far (verify counts its own, lib/mem/footprint.ts),
  FLT_OVER: 1,     //   a failure past the bitmap (the run's S2 string cannot force it),
  FLT_FAILED: VERIFY_FAULTS / 32, // and which of them failed without the scenario scripting it (bitmap)
  LOG_HIGH: 1,     // decisions logged or replayed by earlier runs on this machine (kept across header resets)
}, { capacity: SCHED_HEADER_WORDS });

/** Per-thread slot words (offsets from `slot(c)`), one line per thread. */
export const SCHED_SLOT = defineLayout('sched slot', {
  STATE: 1,        // ST_*
  ADDR: 1,         // blocked: the word it waits on,
  SEEN: 1,         //   and the value it saw there
  PRIO: 1,         // PCT's priority
  SITE: 1,         // site of its last yield point
  WAKE: 1,         // its own wake word (0 idle, 2 asleep, 1 woken): a handoff wakes exactly one thread
}, { lined: true, capacity: SCHED_SLOT_WORDS });

/** SCHED_HEADER.SPIN: spin then park, with a budget each thread adapts to what its waits observe (controlled.ts). */
export const SPIN_AUTO = -1;

export const ST_NOT_STARTED = 0, ST_RUNNABLE = 1, ST_BLOCKED = 2, ST_DONE = 3;
export const STATE_NAMES = ['not-started', 'runnable', 'blocked', 'done'] as const;

export const END_RUNNING = 0, END_DONE = 1, END_DEADLOCK = 2, END_HANG = 3, END_DIVERGED = 4, END_STOPPED = 5;
export const END_NAMES = ['running', 'done', 'deadlock', 'hang', 'diverged', 'stopped'] as const;

/** Header base (word index) of the attached machine's 'sched' region. */
export let schedBase = 0;
/** The decision log: one byte per decision, the chosen thread. */
export let LOG: Uint8Array = new Uint8Array(0);
let slotBase = 0;

// A worker attaches before every run, mostly to the buffer and layout of its run before: the view is kept then.
let logFor: Layout | undefined;
onAttach(() => {
  if (logFor === LAYOUT && LOG.buffer === M.buffer) return;
  const r = region('sched');
  schedBase = r.base;
  slotBase = schedBase + SCHED_HEADER_WORDS;
  const logWord = slotBase + MAX_THREADS * SCHED_SLOT_WORDS;
  LOG = new Uint8Array(M.buffer, logWord * 4, (r.base + r.words - logWord) * 4);
  logFor = LAYOUT;
});

export function slot(c: number): number { return slotBase + c * SCHED_SLOT_WORDS; }

// The decision log past what the runs on this machine logged (STEP) or were given to replay (REPLAY_LEN; LOG_HIGH
// for the runs before the last) was not written by them: a restore from the boot image may skip it
// (lib/mem/machine.ts). Nothing else writes LOG.
untouchedByRun((m, layout) => {
  const r = layout.regions.sched;
  if (!r) return undefined;
  const log = r.base + SCHED_HEADER_WORDS + MAX_THREADS * SCHED_SLOT_WORDS;
  const high = Math.max(m[r.base + SCHED_HEADER.STEP], m[r.base + SCHED_HEADER.REPLAY_LEN], m[r.base + SCHED_HEADER.LOG_HIGH]);
  return [log + Math.ceil(high / 4), r.base + r.words];
});

/** xorshift32 over the shared RNG word (any thread holding the token may call it). */
export function rand(): number {
  let x = M[schedBase + SCHED_HEADER.RNG];
  x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
  M[schedBase + SCHED_HEADER.RNG] = x;
  return x >>> 0;
}

/** A non-zero xorshift state from any integer seed (splitmix32 finaliser). */
export function seedState(seed: number): number {
  let z = (seed | 0) + 0x9e3779b9;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return z === 0 ? 0x6d2b79f5 : z;
}

export function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

/** Index of the k-th (0-based) set bit of mask. */
export function nthBit(mask: number, k: number): number {
  for (let c = 0; mask !== 0; c++, mask >>>= 1) {
    if (mask & 1) { if (k === 0) return c; k--; }
  }
  return -1;
}
