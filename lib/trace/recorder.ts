// Flight recorder: a ring of recent events per thread, in shared memory, stamped with a global sequence number so
// the last events of every vCPU can be merged into one global order after a failure (like ftrace's per-CPU
// buffers). Writing an entry is four plain stores on the thread's own ring, and for most events one atomic add of
// SEQ_STEP to CTL.SEQ (alone on its cache line); see recordRelease for the events that only read it.
//
// The order readers get (sort by seq; ties keep each thread's ring order, with equal seqs of different threads
// concurrent): every event stamped with an add is placed exactly where its add fell among all the others (real
// time), and a release stamped with a read of SEQ (seq = SEQ - 1) falls after every add that preceded its read and
// before every add that followed it. So the merged order is the real-time order of the added events, each thread's
// own order, and every lock hand-over (the releaser's read comes before its release, the next acquirer's add after
// its acquisition). Only two releases of different threads with no added event between them may tie; controlled
// runs (one thread at a time, read by repro and timelines) add on every event and are totally ordered.

import { CTL, M, cpu, region, onAttach, untouchedByRun, RING_ENTRIES, RING_ENTRY_WORDS, MAX_THREADS, TSTAT } from '../mem/machine.js';

/** Event kinds. `a` and `b` are small integers whose meaning depends on the kind. */
export const EV = {
  SITE: 1,       // a = site id (lib/trace/sites)
  LOCK: 2,       // a = lock class, b = lock address   (spin_lock / write_lock acquired)
  UNLOCK: 3,     // a = lock class, b = lock address
  RLOCK: 4,      // a = lock class, b = lock address   (read_lock acquired)
  RUNLOCK: 5,
  TRYFAIL: 6,    // a = lock class, b = lock address
  WAIT: 7,       // a = lock class, b = lock address   (started waiting)
  ENTER: 8,      // a = site id of an entry point (hypercall, config access, hvm_do_resume)
  RET: 9,        // a = site id, b = return value
  CRASH: 10,     // a = outcome code
  DONE: 11,
  NOTE: 12,      // a = site id, b = value
} as const;

/** `seq`: the event's place in the global order (header comment): sort by it, stably, after each thread's ring order. */
export interface TraceEvent { seq: number; cpu: number; ev: number; a: number; b: number }

let ringBase = 0, statBase = 0;
/**
 * What record() reads on every event (the SEQ word, this thread's ring and its entry counter, as word indices), in a
 * constant typed array: a module `let` costs a cell load and a hole check per use in V8's optimised code, and an
 * instrumented lock pair records two events. Fixed at attach: the hot path does no arithmetic on cpu.
 */
const enum R { SEQ = 0, RING = 1, IDX = 2, EXACT = 3, ENTRY_SHIFT = 2, MASK = 255, STEP = 2 }
const rs = new Int32Array(4);
/** What an added event advances SEQ by: a released event's seq (SEQ - 1) lies strictly between two added ones. */
export const SEQ_STEP: number = R.STEP;
rs[R.SEQ] = CTL.SEQ;
if (1 << R.ENTRY_SHIFT !== RING_ENTRY_WORDS || R.MASK !== RING_ENTRIES - 1) throw new Error('recorder.ts: ring geometry out of date');
const MASK = RING_ENTRIES - 1;
onAttach(() => {
  ringBase = region('ring').base; statBase = region('threadStat').base;
  rs[R.RING] = ringBase + cpu * RING_ENTRIES * RING_ENTRY_WORDS;
  rs[R.IDX] = statBase + cpu * TSTAT.words + TSTAT.RING_IDX;
});

// A run writes a thread's ring only at the entries its write index passes, from the image's index on: a restore
// from the boot image (lib/mem/machine.ts) may skip the entries after those (most of the ring: a verify run records
// a few dozen events per CPU, and the CPUs it does not use none).
for (let c = 0; c < MAX_THREADS; c++) {
  untouchedByRun((m, layout, image) => {
    const ring = layout.regions.ring, stat = layout.regions.threadStat;
    if (!ring || !stat) return undefined;
    const at = stat.base + c * TSTAT.words + TSTAT.RING_IDX, from = image[at], n = m[at] - from;
    const end = (from & MASK) + n;
    if (n < 0 || end >= RING_ENTRIES) return undefined;
    const base = ring.base + c * RING_ENTRIES * RING_ENTRY_WORDS;
    return [base + end * RING_ENTRY_WORDS, base + RING_ENTRIES * RING_ENTRY_WORDS];
  });
}

/** Per-thread stat words (region 'threadStat', lib/mem/regions.ts TSTAT, one line per thread). */
export { TSTAT };
export function tstat(c: number, field: number): number { return statBase + c * TSTAT.words + field; }

export function record(ev: number, a = 0, b = 0): void { recordIn(M, ev, a, b); }

/**
 * record() on the memory the caller already holds (the lock paths: one read of the machine binding, which V8 reads
 * through a cell with a hole check and a map check, where an inlined record() would read it again).
 */
export function recordIn(m: Int32Array, ev: number, a: number, b: number): void {
  put(m, Atomics.add(m, rs[R.SEQ], R.STEP), ev, a, b);
}

/**
 * An event recorded just before a lock is released (UNLOCK, RUNLOCK), stamped with a plain read of SEQ instead of
 * an add: the release that follows is an atomic operation or, on x86 only (spinlock.ts ticket_release), a plain
 * store, which x86 keeps after the earlier load; so the next acquirer's add, made after it sees the release, reads
 * a SEQ at least this one. Half the adds of an instrumented lock pair (an Atomics call is ~7 ns here, ~10% of the
 * pair). Under controlled scheduling (setExactReleases) it adds like record(), so that those runs keep a total order.
 * `m` is M, as the caller already holds it (recordIn).
 */
export function recordRelease(m: Int32Array, ev: number, a: number, b: number): void {
  put(m, rs[R.EXACT] !== 0 ? Atomics.add(m, rs[R.SEQ], R.STEP) : m[rs[R.SEQ]] - 1, ev, a, b);
}

/** Releases stamped with an add too (lib/sync/instrument.ts: while the machine runs controlled). */
export function setExactReleases(on: boolean): void { rs[R.EXACT] = on ? 1 : 0; }

function put(m: Int32Array, seq: number, ev: number, a: number, b: number): void {
  const ia = rs[R.IDX];
  const idx = m[ia];
  m[ia] = idx + 1;
  const e = rs[R.RING] + ((idx & R.MASK) << R.ENTRY_SHIFT);
  m[e] = seq; m[e + 1] = ev; m[e + 2] = a; m[e + 3] = b;
}

/** Events of one thread, oldest first (at most RING_ENTRIES). */
export function readRing(c: number): TraceEvent[] {
  const n = M[statBase + c * TSTAT.words + TSTAT.RING_IDX];
  const out: TraceEvent[] = [];
  for (let i = Math.max(0, n - RING_ENTRIES); i < n; i++) {
    const e = ringBase + (c * RING_ENTRIES + (i & MASK)) * RING_ENTRY_WORDS;
    out.push({ seq: M[e], cpu: c, ev: M[e + 1], a: M[e + 2], b: M[e + 3] });
  }
  return out;
}

/** The last `perThread` events of every thread, merged in global order. */
export function mergedTail(threads: number, perThread = 24): TraceEvent[] {
  const all: TraceEvent[] = [];
  for (let c = 0; c < Math.min(threads, MAX_THREADS); c++) all.push(...readRing(c).slice(-perThread));
  return all.sort((x, y) => x.seq - y.seq);
}

/** One recorded event as a report draws it: global order, CPU, kind (EV), operands and its label. */
export interface TimelineEvent { seq: number; cpu: number; ev: number; a: number; b: number; label: string }
