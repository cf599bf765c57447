// Lock profiling per lock class, like Xen's CONFIG_DEBUG_LOCK_PROFILE (lock_cnt, block_cnt, time_hold,
// time_block) and Linux lock_stat (max wait / max hold). Each CPU writes only its own row, so counting needs no
// atomics; rows are summed when the report is made. Wait and hold times also go into HdrHistograms kept by each
// CPU's thread (hdr-histogram-js: 1% relative error from nanoseconds to seconds); the trial runner hands them to
// the main thread as (value, count) pairs, and the main thread merges them (mergeLockHistograms). Workers load only
// the histogram class (a few ms), not the package's encoders and WebAssembly build (~100 ms per worker start).
// All of it runs only when profiling is on: the lock code calls in here behind its `profiling` test.

import Int32HistogramModule from 'hdr-histogram-js/dist/Int32Histogram.js';
import { CTL, F64, M, cpu, region, onAttach, LAYOUT, MAX_THREADS, LOCK_PROFILE, profileRowWords } from '../mem/machine.js';
import { f64Fields } from '../mem/layout.js';

export const FLAG_PROFILE = 1, FLAG_LOCKDEP = 2;
/** Set: lock operations are not written to the flight recorder (raw-speed benchmarks). Clear by default. */
export const FLAG_NO_LOCK_TRACE = 4;
/** Float64 indices of one lock class's entry, and its size in Float64s. */
const P = f64Fields(LOCK_PROFILE);
const ENTRY = LOCK_PROFILE.words / 2;

export let profiling = false;
/** Lock acquire/release/wait events go to the flight recorder (lib/trace/recorder) unless switched off. */
export let lockTracing = true;
let rowBase = 0, nc = 1;
onAttach(() => {
  profiling = (M[CTL.FLAGS] & FLAG_PROFILE) !== 0;
  lockTracing = (M[CTL.FLAGS] & FLAG_NO_LOCK_TRACE) === 0;
  nc = LAYOUT.lockClasses.length;
  rowBase = (region('profile').base + cpu * profileRowWords(nc)) / 2; // Float64 index
  for (const h of waitHist) h?.reset();
  for (const h of holdHist) h?.reset();
});

// This thread's histograms per lock class, made on first use, reset for every trial (attach).
// A CommonJS module: its default export arrives as a property of the module object.
const Int32Histogram = Int32HistogramModule.default;
type JsHistogram = InstanceType<typeof Int32Histogram>;

const waitHist: Array<JsHistogram | undefined> = [];
const holdHist: Array<JsHistogram | undefined> = [];
/** 2 significant digits (1% error) from 1 ns; grows as larger values arrive. */
export function newHistogram(): JsHistogram {
  const h = new Int32Histogram(1, 1_000_000, 2);
  h.autoResize = true;
  return h;
}

/** Switch profiling for this thread (and, through the control block, for threads attached later). */
export function setProfiling(on: boolean): void {
  profiling = on;
  if (on) Atomics.or(M, CTL.FLAGS, FLAG_PROFILE); else Atomics.and(M, CTL.FLAGS, ~FLAG_PROFILE);
}

/**
 * Switch flight-recorder events of lock operations for this thread (and, through the control block, for threads
 * attached later). Off only for raw-speed lock benchmarks: timelines and flight recorders need them.
 */
export function setLockTracing(on: boolean): void {
  lockTracing = on;
  if (on) Atomics.and(M, CTL.FLAGS, ~FLAG_NO_LOCK_TRACE); else Atomics.or(M, CTL.FLAGS, FLAG_NO_LOCK_TRACE);
}

/** Nanoseconds, as a double (performance.now has sub-microsecond resolution in Node). */
export function now(): number { return performance.now() * 1e6; }

export function profileAcquired(cls: number, waitStart: number, t: number): void {
  const r = rowBase + cls * ENTRY;
  F64[r + P.ACQ]++;
  if (waitStart > 0) {
    const w = t - waitStart;
    F64[r + P.CONTENDED]++;
    F64[r + P.WAIT_SUM] += w;
    if (w > F64[r + P.WAIT_MAX]) F64[r + P.WAIT_MAX] = w;
    (waitHist[cls] ??= newHistogram()).recordValue(w > 0 ? Math.round(w) : 0);
  }
}

export function profileReleased(cls: number, hold: number): void {
  const r = rowBase + cls * ENTRY;
  F64[r + P.HOLD_SUM] += hold;
  if (hold > F64[r + P.HOLD_MAX]) F64[r + P.HOLD_MAX] = hold;
  (holdHist[cls] ??= newHistogram()).recordValue(hold > 0 ? Math.round(hold) : 0);
}

/** Per lock class name: wait and hold histograms as flat [value, count, value, count, ...] lists. */
export type LockHistogramPairs = Record<string, { wait?: number[]; hold?: number[] }>;

function pairsOf(h: JsHistogram | undefined): number[] | undefined {
  if (!h || h.totalCount === 0) return undefined;
  const out: number[] = [];
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) { const v = it.next(); out.push(v.valueIteratedTo, v.countAtValueIteratedTo); }
  return out;
}

/** This thread's histograms since attach, for the trip to the main thread; undefined when none. */
export function takeLockHistograms(): LockHistogramPairs | undefined {
  if (!profiling) return undefined;
  let out: LockHistogramPairs | undefined;
  for (let c = 0; c < Math.max(waitHist.length, holdHist.length); c++) {
    const wait = pairsOf(waitHist[c]), hold = pairsOf(holdHist[c]);
    if (wait || hold) (out ??= {})[LAYOUT.lockClasses[c] ?? `class${c}`] = { ...(wait ? { wait } : {}), ...(hold ? { hold } : {}) };
  }
  return out;
}

export type { JsHistogram };
export interface LockHistograms { wait: JsHistogram; hold: JsHistogram }

/** Add one CPU's histograms into per-class totals, on the main thread. */
export function mergeLockHistograms(into: Map<string, LockHistograms>, add: LockHistogramPairs | undefined): void {
  for (const [name, e] of Object.entries(add ?? {})) {
    let t = into.get(name);
    if (!t) { t = { wait: newHistogram(), hold: newHistogram() }; into.set(name, t); }
    for (const [h, xs] of [[t.wait, e.wait], [t.hold, e.hold]] as const) for (let i = 0; xs && i < xs.length; i += 2) h.recordValueWithCount(xs[i], xs[i + 1]);
  }
}

export interface LockStat {
  name: string; acquisitions: number; contended: number;
  totalWaitNs: number; maxWaitNs: number; totalHoldNs: number; maxHoldNs: number;
}

/** Sum of every CPU's row, per lock class that was used. */
export function lockStats(): LockStat[] {
  const classes = LAYOUT.lockClasses;
  const base = region('profile').base, row = profileRowWords(classes.length);
  const out: LockStat[] = [];
  for (let c = 0; c < classes.length; c++) {
    const s: LockStat = { name: classes[c], acquisitions: 0, contended: 0, totalWaitNs: 0, maxWaitNs: 0, totalHoldNs: 0, maxHoldNs: 0 };
    for (let t = 0; t < MAX_THREADS; t++) {
      const r = (base + t * row) / 2 + c * ENTRY;
      s.acquisitions += F64[r + P.ACQ];
      s.contended += F64[r + P.CONTENDED];
      s.totalWaitNs += F64[r + P.WAIT_SUM];
      s.maxWaitNs = Math.max(s.maxWaitNs, F64[r + P.WAIT_MAX]);
      s.totalHoldNs += F64[r + P.HOLD_SUM];
      s.maxHoldNs = Math.max(s.maxHoldNs, F64[r + P.HOLD_MAX]);
    }
    if (s.acquisitions > 0) out.push(s);
  }
  return out;
}

/** Zero every row (between benchmark phases). */
export function resetLockStats(): void {
  const r = region('profile');
  F64.fill(0, r.base / 2, r.base / 2 + r.words / 2);
}
