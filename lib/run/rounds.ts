// Contended rounds, measured the same way on both sides of `bench locks` (the lab's locks on worker_threads, the
// C reference on pthreads): a round is long enough to span many scheduler time slices, every thread stamps when it
// entered and left its loop, and a round counts only if all threads were inside their loops together for most of
// it. A short round on an oversubscribed machine otherwise measures threads that ran one after another.

/** One round: per-thread loop entry and exit (any common unit), total operations, wall time (ms). */
export interface RoundSample { starts: number[]; ends: number[]; ops: number; ms: number }

/** A round counts only if all threads overlapped for at least this share of it. */
export const MIN_OVERLAP = 0.9;
/** A round counts only if it lasted at least this long (ms): many time slices of a 2-core machine. */
export const MIN_ROUND_MS = 200;

/** Share of the round (first entry to last exit) during which every thread was inside its loop. */
export function overlapOf(starts: readonly number[], ends: readonly number[]): number {
  if (starts.length <= 1) return 1;
  const span = Math.max(...ends) - Math.min(...starts);
  const all = Math.min(...ends) - Math.max(...starts);
  return span > 0 ? Math.max(0, all) / span : 1;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export interface RoundsOptions {
  /** Rounds that must count. */
  rounds: number;
  /** Target round length (ms); rounds shorter than MIN_ROUND_MS never count. */
  roundMs: number;
  minIters: number;
  maxIters: number;
  /** Give up (with fewer counted rounds) after this many attempts in all. */
  maxAttempts: number;
}

export interface RoundsResult {
  /** Median ns per operation over the counted rounds (NaN if none counted). */
  nsPerOp: number;
  /** ns per operation of each counted round. */
  counted: number[];
  /** Rounds run but not counted: threads overlapped < MIN_OVERLAP, or the round was shorter than MIN_ROUND_MS. */
  dropped: number;
  itersPerThread: number;
  overlaps: number[];
}

/**
 * Grow the per-thread iteration count until a round lasts about `roundMs` (these rounds warm up the JIT and the
 * caches and do not count), then run rounds until `rounds` count or `maxAttempts` were made. After every round the
 * iterations are rescaled (within 2x) toward `roundMs`: the cost per operation changes with overlap and load.
 */
export async function measureRounds(once: (iters: number) => Promise<RoundSample>, o: RoundsOptions): Promise<RoundsResult> {
  let iters = o.minIters;
  for (let k = 0; k < 12 && iters < o.maxIters; k++) {
    const r = await once(iters);
    if (r.ms >= o.roundMs / 2) { iters = Math.min(o.maxIters, Math.ceil((iters * o.roundMs) / r.ms)); break; }
    iters = Math.min(o.maxIters, iters * Math.min(4, Math.max(2, Math.ceil(o.roundMs / 2 / Math.max(r.ms, 0.01)))));
  }
  const counted: number[] = [], overlaps: number[] = [];
  let dropped = 0;
  for (let attempt = 0; attempt < o.maxAttempts && counted.length < o.rounds; attempt++) {
    const r = await once(iters);
    const ov = overlapOf(r.starts, r.ends);
    const keep = ov >= MIN_OVERLAP && r.ms >= MIN_ROUND_MS;
    if (keep) { counted.push((r.ms * 1e6) / r.ops); overlaps.push(Math.round(ov * 1000) / 1000); } else dropped++;
    // Stay near roundMs (cost per operation changes with overlap and load), and never below MIN_ROUND_MS.
    const scale = Math.min(2, Math.max(0.5, o.roundMs / Math.max(r.ms, 0.01)));
    iters = Math.max(o.minIters, Math.min(o.maxIters, Math.ceil(iters * (r.ms < MIN_ROUND_MS ? Math.max(scale, 1.5) : scale))));
  }
  return { nsPerOp: median(counted), counted, dropped, itersPerThread: iters, overlaps };
}
