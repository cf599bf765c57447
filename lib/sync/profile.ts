// Lock profiling per lock class, like Xen's CONFIG_DEBUG_LOCK_PROFILE (lock_cnt, block_cnt, time_hold,
// time_block) and Linux lock_stat (max wait / max hold). Each CPU writes only its own row, so counting needs no
// atomics; rows are summed when the report is made. Wait and hold times are also counted per CPU in buckets laid
// out exactly as an HdrHistogram's (lowest 1 ns, 2 significant digits: 1% relative error from nanoseconds to
// seconds), a shift and an increment on the lock path where hdr-histogram-js's recordValue took a third of an
// instrumented pair; the trial runner hands the buckets to the main thread as (value, count) pairs (the values an
// HdrHistogram's iterator gives), and the main thread merges them into HdrHistograms (mergeLockHistograms). Workers
// load only the histogram class (a few ms), not the package's encoders and WebAssembly build (~100 ms per start).
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
/**
 * profiling, lockTracing and lockdepOn as words (1/0) for the instrumented lock paths: a constant typed array is read without
 * a module cell's hole check (instrument.ts lockHooksWord does the same for the raw paths).
 */
export const instrWord = new Int32Array(3);
/** lockdep: set by lockdep.ts, which owns that flag. */
export const enum IW { profiling = 0, tracing = 1, lockdep = 2 }
let rowBase = 0, nc = 1;
/** rowBase + P.ACQ for profileCounted, in a constant typed array (no module cell on the lock fast path). */
const acqBase = new Int32Array(1);
onAttach(() => {
  profiling = (M[CTL.FLAGS] & FLAG_PROFILE) !== 0;
  lockTracing = (M[CTL.FLAGS] & FLAG_NO_LOCK_TRACE) === 0;
  instrWord[IW.profiling] = profiling ? 1 : 0; instrWord[IW.tracing] = lockTracing ? 1 : 0;
  nc = LAYOUT.lockClasses.length;
  rowBase = (region('profile').base + cpu * profileRowWords(nc)) / 2; // Float64 index
  acqBase[0] = rowBase + P.ACQ;
});

// This thread's bucket counts per lock class, made on first use, zeroed for every trial (attach).
// A CommonJS module: its default export arrives as a property of the module object.
const Int32Histogram = Int32HistogramModule.default;
type JsHistogram = InstanceType<typeof Int32Histogram>;

/** 2 significant digits (1% error) from 1 ns; grows as larger values arrive. */
export function newHistogram(): JsHistogram {
  const h = new Int32Histogram(1, 1_000_000, 2);
  h.autoResize = true;
  return h;
}

// HdrHistogram's geometry for (lowest 1, 2 digits): 256 sub-buckets, the upper 128 of each bucket used above bucket
// 0, bucket b holding values [128 << b, 256 << b) in steps of 1 << b. Index = b * 128 + (v >> b).
const HALF_MAG = 7, HALF = 1 << HALF_MAG;
/** Buckets up to 2^40 ns (18 minutes): a larger value lands in the last one. */
const INDEXES = (40 - HALF_MAG) * HALF + 2 * HALF;
const waitBuckets: Array<Int32Array | undefined> = [];
const holdBuckets: Array<Int32Array | undefined> = [];
/**
 * The indexes of each class's buckets that are non-zero, in the order first counted: a trial touches a few dozen of
 * the 4,480, and reading them out (takeLockHistograms) and zeroing them (attach, every trial) visit only those
 * instead of scanning and filling all of them (~0.3% of a stress run's worker time in perf).
 */
const waitUsed: number[][] = [];
const holdUsed: number[][] = [];

/** Count a value (ns, an integer >= 0) `weight` times in this thread's buckets of class `cls`. */
function countIn(all: Array<Int32Array | undefined>, used: number[][], cls: number, ns: number, weight: number): void {
  const b = all[cls] ?? (all[cls] = new Int32Array(INDEXES));
  const i = bucketIndex(ns);
  if (b[i] === 0) (used[cls] ??= []).push(i);
  b[i] += weight;
}

/** Count a value (an integer >= 0) `weight` times in buckets `b` (BUCKET_INDEXES long). */
export function bucketCount(b: Int32Array, ns: number, weight: number): void { b[bucketIndex(ns)] += weight; }

function bucketIndex(ns: number): number {
  if (ns < 0x80000000) {
    const v = ns > 0 ? ns >>> 0 : 0;
    const k = v < 2 * HALF ? 0 : 31 - Math.clz32(v) - HALF_MAG;
    return k * HALF + (v >>> k);
  }
  const k = Math.min(40 - HALF_MAG, Math.floor(Math.log2(ns)) - HALF_MAG);
  return k * HALF + Math.min(2 * HALF - 1, Math.floor(ns / 2 ** k));
}

export const BUCKET_INDEXES = INDEXES;

/** The (value, count) pairs of buckets, as HdrHistogram's recorded-values iterator gives them. */
export function bucketPairs(b: Int32Array | undefined): number[] | undefined {
  if (!b) return undefined;
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) pushPair(out, b, i);
  return out.length > 0 ? out : undefined;
}

/** bucketPairs visiting only the buckets in `used` (this thread's classes), in the same ascending order. */
function usedPairs(b: Int32Array | undefined, used: number[] | undefined): number[] | undefined {
  if (!b || !used || used.length === 0) return undefined;
  const out: number[] = [];
  for (const i of used.sort((x, y) => x - y)) pushPair(out, b, i);
  return out;
}

function pushPair(out: number[], b: Int32Array, i: number): void {
  const k = i < 2 * HALF ? 0 : (i >>> HALF_MAG) - 1;
  const sub = i - k * HALF;
  out.push(sub * 2 ** k + 2 ** k - 1, b[i]);  // the highest value equivalent to the bucket's
}

onAttach(() => {
  for (const [all, used] of [[waitBuckets, waitUsed], [holdBuckets, holdUsed]] as const) {
    for (let c = 0; c < used.length; c++) {
      const b = all[c], u = used[c];
      if (b && u) { for (const i of u) b[i] = 0; u.length = 0; }
    }
  }
});

/** Switch profiling for this thread (and, through the control block, for threads attached later). */
export function setProfiling(on: boolean): void {
  profiling = on;
  instrWord[IW.profiling] = on ? 1 : 0;
  if (on) Atomics.or(M, CTL.FLAGS, FLAG_PROFILE); else Atomics.and(M, CTL.FLAGS, ~FLAG_PROFILE);
}

/**
 * Switch flight-recorder events of lock operations for this thread (and, through the control block, for threads
 * attached later). Off only for raw-speed lock benchmarks: timelines and flight recorders need them.
 */
export function setLockTracing(on: boolean): void {
  lockTracing = on;
  instrWord[IW.tracing] = on ? 1 : 0;
  if (on) Atomics.and(M, CTL.FLAGS, ~FLAG_NO_LOCK_TRACE); else Atomics.or(M, CTL.FLAGS, FLAG_NO_LOCK_TRACE);
}

/** performance, bound once: a global lookup on every clock read was ~1% of an instrumented pair (perf). */
const perf = performance;
/** Nanoseconds, as a double (performance.now has sub-microsecond resolution in Node). */
export function now(): number { return perf.now() * 1e6; }

/**
 * Hold times are timed on every HOLD_SAMPLE-th acquisition of a thread and counted HOLD_SAMPLE times (sums and
 * histograms; the maximum is the largest timed hold): two clock reads cost more than the rest of an instrumented
 * pair together (~50 ns each, V8 has no cheaper clock), and a sample of every 31st hold draws the same distribution
 * over a stress run's millions. 31, not 32: prime, so that a thread repeating a cycle of 2, 4, 8 or 16 acquisitions
 * (a trial's fixed lock sequence) does not time the same acquisition of the cycle every time. 8 -> 31 took ~8 ns
 * off the instrumented pair. Acquisitions, contended acquisitions and wait times are exact. VPCI_HOLD_SAMPLE=1
 * times every hold.
 */
export const HOLD_SAMPLE = holdSample(process.env.VPCI_HOLD_SAMPLE);
function holdSample(v: string | undefined): number {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n >= 1 ? n : 31;
}

/** An acquisition of class `cls`; `waitedNs` >= 0 when it had to wait (contended), else < 0. */
export function profileAcquired(cls: number, waitedNs: number): void {
  const r = rowBase + cls * ENTRY;
  F64[r + P.ACQ]++;
  if (waitedNs >= 0) {
    F64[r + P.CONTENDED]++;
    F64[r + P.WAIT_SUM] += waitedNs;
    if (waitedNs > F64[r + P.WAIT_MAX]) F64[r + P.WAIT_MAX] = waitedNs;
    countIn(waitBuckets, waitUsed, cls, Math.round(waitedNs), 1);
  }
}

/** profileAcquired(cls, -1): an acquisition of a free lock, counted and nothing else. */
export function profileCounted(cls: number): void { F64[acqBase[0] + cls * ENTRY]++; }

/** A timed hold of class `cls` (ns), standing for `weight` holds (HOLD_SAMPLE). */
export function profileReleased(cls: number, hold: number, weight: number): void {
  const r = rowBase + cls * ENTRY;
  F64[r + P.HOLD_SUM] += hold * weight;
  if (hold > F64[r + P.HOLD_MAX]) F64[r + P.HOLD_MAX] = hold;
  countIn(holdBuckets, holdUsed, cls, hold > 0 ? Math.round(hold) : 0, weight);
}

/** Per lock class name: wait and hold histograms as flat [value, count, value, count, ...] lists. */
export type LockHistogramPairs = Record<string, { wait?: number[]; hold?: number[] }>;

/** This thread's histograms since attach, for the trip to the main thread; undefined when none. */
export function takeLockHistograms(): LockHistogramPairs | undefined {
  if (!profiling) return undefined;
  let out: LockHistogramPairs | undefined;
  for (let c = 0; c < Math.max(waitBuckets.length, holdBuckets.length); c++) {
    const wait = usedPairs(waitBuckets[c], waitUsed[c]), hold = usedPairs(holdBuckets[c], holdUsed[c]);
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
