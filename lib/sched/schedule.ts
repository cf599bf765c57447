// Schedule strings: the decisions of a controlled run, compact enough to paste into a bug report.
//
//   S1:<threads>:<decisions>
//
// `threads` is how many threads took part (1-16). `decisions` is the sequence of threads the chooser picked at
// every decision point (the first token, every yield point, every block, every thread end), one letter per thread
// ('a' = cpu0 ... 'p' = cpu15), run-length encoded: a letter followed by a count repeats it (count 1 is omitted).
// Example: `S1:3:a5b3ac12` = a a a a a b b b a c c c c c c c c c c c c. Replaying it feeds the same decisions to
// the same threads; the model is deterministic given the decisions, so the run, its flight-recorder events and
// its outcome repeat exactly.
//
//   S2:<threads>:s<seed>:<digest>:<decisions>[:f<i>,<j>,...]
//
// S2 adds what else a replay depends on: the model seed, the digest of the run's sequence of sites, picks and
// runnable sets (8 hex digits; a replay whose digest differs ran something else: divergence), and the fault
// points that failed (indices in the run's order of fault points; the others succeed). Every command prints S2: a
// controlled run outside verify folds its fault points into the digest and counts them as verify does
// (lib/sched/fault.ts noteFault), so one interleaving has one string whichever command ran it. S1 strings still
// replay (model seed 1, what repro ran them with), unchecked.

import { MAX_THREADS } from '../mem/machine.js';
import { VERIFY_FAULTS } from '../mem/footprint.js';

export const SCHEDULE_VERSION = 'S1';
export const SCHEDULE_VERSION_2 = 'S2';

/** A malformed schedule string (the CLI turns it into a one-line usage error). */
export class ScheduleError extends Error {
  constructor(message: string) { super(message); this.name = 'ScheduleError'; }
}

/** A replayed schedule that no longer matches the run (different scenario, strategy or code). */
export class ScheduleDivergence extends Error {
  constructor(message: string, readonly step: number, readonly wanted: number, readonly runnable: number[]) {
    super(message);
    this.name = 'ScheduleDivergence';
  }
}

export interface Schedule {
  threads: number;
  decisions: Uint8Array;
  /** S2 only: the model seed, the site digest, the failing fault points. */
  seed?: number;
  digest?: number;
  faults?: number[];
}

export function threadLetter(c: number): string { return String.fromCharCode(97 + c); }

export function formatSchedule(threads: number, decisions: ArrayLike<number>): string {
  return `${SCHEDULE_VERSION}:${threads}:${encodeDecisions(decisions)}`;
}

export function formatScheduleV2(threads: number, decisions: ArrayLike<number>, seed: number, digest: number, faults: readonly number[]): string {
  const f = faults.length > 0 ? `:f${faults.join(',')}` : '';
  return `${SCHEDULE_VERSION_2}:${threads}:s${seed >>> 0}:${(digest >>> 0).toString(16).padStart(8, '0')}:${encodeDecisions(decisions)}${f}`;
}

function encodeDecisions(decisions: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < decisions.length;) {
    const c = decisions[i];
    let j = i + 1;
    while (j < decisions.length && decisions[j] === c) j++;
    out += threadLetter(c) + (j - i > 1 ? String(j - i) : '');
    i = j;
  }
  return out;
}

const MAX_DECISIONS = 1 << 26;

/** Validate and decode a schedule string; throws ScheduleError saying what is wrong. */
export function parseSchedule(text: string): Schedule {
  if (typeof text !== 'string') throw new ScheduleError('schedule must be a string');
  const s = text.trim();
  if (s.startsWith(`${SCHEDULE_VERSION_2}:`)) return parseV2(s);
  const m = /^([^:]*):([^:]*):(.*)$/s.exec(s);
  if (!m) throw new ScheduleError(`malformed schedule '${clip(s)}': expected ${SCHEDULE_VERSION}:<threads>:<decisions>, e.g. S1:2:a3b2a`);
  if (m[1] !== SCHEDULE_VERSION) throw new ScheduleError(`malformed schedule '${clip(s)}': unknown version '${clip(m[1])}' (expected ${SCHEDULE_VERSION})`);
  if (!/^[1-9]\d?$/.test(m[2]) || Number(m[2]) > MAX_THREADS) {
    throw new ScheduleError(`malformed schedule '${clip(s)}': thread count must be 1..${MAX_THREADS}, got '${clip(m[2])}'`);
  }
  const threads = Number(m[2]);
  return { threads, decisions: decodeDecisions(s, m[3], threads) };
}

function parseV2(s: string): Schedule {
  const m = /^S2:([^:]*):s(\d{1,10}):([0-9a-f]{8}):([^:]*)(?::f(\d{1,7}(?:,\d{1,7})*))?$/.exec(s);
  if (!m) throw new ScheduleError(`malformed schedule '${clip(s)}': expected S2:<threads>:s<seed>:<8 hex digits>:<decisions>[:f<i>,<j>...]`);
  if (!/^[1-9]\d?$/.test(m[1]) || Number(m[1]) > MAX_THREADS) {
    throw new ScheduleError(`malformed schedule '${clip(s)}': thread count must be 1..${MAX_THREADS}, got '${clip(m[1])}'`);
  }
  const threads = Number(m[1]);
  const seed = Number(m[2]);
  if (seed > 0xffffffff) throw new ScheduleError(`malformed schedule '${clip(s)}': seed out of range`);
  const faults = m[5] ? m[5].split(',').map(Number) : [];
  for (let i = 1; i < faults.length; i++) if (faults[i] <= faults[i - 1]) throw new ScheduleError(`malformed schedule '${clip(s)}': fault indices must ascend`);
  if (faults.some((i) => i >= VERIFY_FAULTS)) throw new ScheduleError(`malformed schedule '${clip(s)}': fault index past ${VERIFY_FAULTS - 1}, the most a replay can force`);
  return { threads, decisions: decodeDecisions(s, m[4], threads), seed, digest: parseInt(m[3], 16) >>> 0, faults };
}

/** decodeDecisions' runs (thread, count), kept across calls: verify decodes a schedule after every run. */
let runThread = new Uint8Array(64), runCount = new Int32Array(64);

function decodeDecisions(s: string, body: string, threads: number): Uint8Array {
  if (body.length === 0) throw new ScheduleError(`malformed schedule '${clip(s)}': no decisions`);
  let total = 0, runs = 0;
  // Each run is a letter ([a-z]) and its repeat count (every digit that follows; none: 1).
  for (let i = 0; i < body.length;) {
    const c = body.charCodeAt(i) - 97;
    if (c < 0 || c > 25) throw new ScheduleError(`malformed schedule '${clip(s)}': unexpected '${body[i]}' at decision text offset ${i}`);
    let j = i + 1;
    while (j < body.length && body.charCodeAt(j) >= 48 && body.charCodeAt(j) <= 57) j++;
    if (c >= threads) throw new ScheduleError(`malformed schedule '${clip(s)}': thread '${body[i]}' but the schedule has ${threads} thread(s) (a-${threadLetter(threads - 1)})`);
    // A count is 1-99999999 written without a leading zero.
    if (j > i + 1 && (body.charCodeAt(i + 1) === 48 || j - i - 1 > 8)) throw new ScheduleError(`malformed schedule '${clip(s)}': bad repeat count '${body.slice(i + 1, j)}' after '${body[i]}'`);
    let n = j > i + 1 ? 0 : 1;
    for (let k = i + 1; k < j; k++) n = 10 * n + body.charCodeAt(k) - 48;
    total += n;
    if (total > MAX_DECISIONS) throw new ScheduleError(`malformed schedule '${clip(s)}': more than ${MAX_DECISIONS} decisions`);
    if (runs === runThread.length) {
      const t = new Uint8Array(2 * runs), k = new Int32Array(2 * runs);
      t.set(runThread); k.set(runCount); runThread = t; runCount = k;
    }
    runThread[runs] = c; runCount[runs] = n; runs++;
    i = j;
  }
  const decisions = new Uint8Array(total);
  for (let r = 0, k = 0; r < runs; k += runCount[r], r++) decisions.fill(runThread[r], k, k + runCount[r]);
  return decisions;
}

function clip(s: string): string { return s.length > 60 ? `${s.slice(0, 57)}...` : s; }
