// Dynamic partial-order reduction over one finished run (Flanagan & Godefroid, POPL 2005, applied to the whole
// trace after the run as stateless checkers do): two steps of different threads are dependent when their
// footprints overlap and one of them changed the words in common (lib/mem/footprint.ts); a race is a dependent pair not
// ordered by happens-before through a third step; for each race (j, i) the thread of i must also be tried at the
// decision before j — or, when it could not run there, every thread that could. Threads that had not ended when
// the run stopped (crash, deadlock, hang) have a pending step of unknown footprint: it conflicts with everything.

import type { Step } from './trace.js';

/** Whether the two steps conflict: footprints overlap in a range one of them changed (or one is universal). */
export function overlap(a: Pick<Step, 'fp' | 'universal'>, b: Pick<Step, 'fp' | 'universal'>): boolean {
  if (a.universal || b.universal) return true;
  const x = a.fp, y = b.fp;
  for (let i = 0; i < x.length; i += 3) {
    for (let j = 0; j < y.length; j += 3) if ((x[i + 2] | y[j + 2]) !== 0 && x[i] < y[j + 1] && y[j] < x[i + 1]) return true;
  }
  return false;
}

// A verify search calls races() after each of thousands of runs of a few dozen steps, and most of a run is the
// forced prefix it shares with the run before (search.ts's depth-first order). So the working arrays live across
// calls, and a step whose footprint and those of every step before it are what the previous call saw keeps its
// vector clock and its races: only the steps after the first difference are compared with their predecessors.
/** Per step: thread, universal, first range (in `rg`, 3 words each), the hull of its ranges and of its written ones. */
let th = new Int32Array(64), uni = new Uint8Array(64), first = new Int32Array(65);
let lo = new Int32Array(64), hi = new Int32Array(64), wlo = new Int32Array(64), whi = new Int32Array(64);
let rg = new Int32Array(3 * 256);
/** Per step: vector clock (`threads` words), races (the j of each, `rj[ra[i]..ra[i + 1])`). */
let vc = new Int32Array(256), ra = new Int32Array(65), rj = new Int32Array(256);
/** The previous call: its real steps packed, the first `kept` of which have final clocks and races; its thread count; its caller. */
let packed = 0, kept = 0, keptThreads = 0, keptFor: object | null = null;

function reserve(steps: number, ranges: number, threads: number): void {
  if (steps > th.length) {
    const n = Math.max(steps, 2 * th.length);
    th = new Int32Array(n); uni = new Uint8Array(n); first = new Int32Array(n + 1); ra = new Int32Array(n + 1);
    lo = new Int32Array(n); hi = new Int32Array(n); wlo = new Int32Array(n); whi = new Int32Array(n);
    packed = kept = 0;
  }
  if (3 * ranges > rg.length) { rg = new Int32Array(Math.max(3 * ranges, 2 * rg.length)); packed = kept = 0; }
  if (steps * threads > vc.length) { vc = new Int32Array(Math.max(steps * threads, 2 * vc.length)); packed = kept = 0; }
}

/**
 * Load steps [0, m) into the working arrays, then a universal step per thread not ended when `withPending`.
 * Returns the step count and how many leading steps are the previous call's, footprints and all. The first
 * `known` steps are the previous call's already (the caller knows it, search.ts): they are not compared.
 */
function pack(steps: readonly Step[], m: number, threads: number, ended: (t: number) => boolean, withPending: boolean, known: number): [number, number] {
  let same = Math.min(known, packed, m), r = first[same];
  let ranges = r;
  for (let s = same; s < m; s++) ranges += steps[s].fp.length / 3;
  let pending = 0;
  if (withPending) for (let t = 0; t < threads; t++) if (!ended(t)) pending++;
  reserve(m + pending, ranges, threads);
  if (packed === 0) { same = 0; r = 0; } // the arrays were replaced: nothing is in place
  for (let s = same; s < m; s++) {
    const st = steps[s], f = st.fp, u = st.universal ? 1 : 0;
    // Still the previous call's steps so far (so its step s starts at r too): compare before overwriting.
    let match = same === s && s < packed && th[s] === st.thread && uni[s] === u && 3 * (first[s + 1] - r) === f.length;
    for (let k = 0; match && k < f.length; k++) match = rg[3 * r + k] === f[k];
    // Its ranges and hulls are in place already.
    if (match) { same++; r += f.length / 3; continue; }
    th[s] = st.thread; uni[s] = u; first[s] = r;
    // Hulls: a pair of ranges overlaps only inside both steps' hulls, and one of them written only inside a written hull.
    let l = 0x7fffffff, h = -0x80000000, wl = 0x7fffffff, wh = -0x80000000;
    for (let k = 0; k < f.length; k += 3) {
      const a = f[k], b = f[k + 1], w = f[k + 2];
      rg[3 * r] = a; rg[3 * r + 1] = b; rg[3 * r + 2] = w; r++;
      if (a < l) l = a;
      if (b > h) h = b;
      if (w !== 0) { if (a < wl) wl = a; if (b > wh) wh = b; }
    }
    lo[s] = l; hi[s] = h; wlo[s] = wl; whi[s] = wh;
  }
  first[m] = r;
  packed = m;
  let n = m;
  if (withPending) for (let t = 0; t < threads; t++) if (!ended(t)) { th[n] = t; uni[n] = 1; first[n + 1] = r; n++; }
  return [n, same];
}

/** overlap() on packed steps j and i. */
function conflict(j: number, i: number): boolean {
  if (uni[j] !== 0 || uni[i] !== 0) return true;
  // Some range pair must intersect with one of the two written: one step's written hull meets the other's hull.
  if (!((wlo[j] < hi[i] && lo[i] < whi[j]) || (wlo[i] < hi[j] && lo[j] < whi[i]))) return false;
  const xe = 3 * first[j + 1], ye = 3 * first[i + 1];
  for (let x = 3 * first[j]; x < xe; x += 3) {
    const xl = rg[x], xh = rg[x + 1], xw = rg[x + 2];
    for (let y = 3 * first[i]; y < ye; y += 3) if ((xw | rg[y + 2]) !== 0 && xl < rg[y + 1] && rg[y] < xh) return true;
  }
  return false;
}

/**
 * Step i's clock and races (appended to rj from ra[i]), given its thread's last step `last` (-1: none). The steps
 * before it are visited latest first with the clock built so far: a step already in it (before `last`, or before a
 * later dependence) adds nothing to the clock and is no race, so it is not compared at all. One not in it that
 * conflicts is a direct dependence that no later predecessor orders: a race (a step's clock holds every earlier
 * step's that happens before it, so no earlier one can order it either).
 */
function step(i: number, T: number, last: number, limit: number): void {
  const t = th[i], c = i * T;
  if (last >= 0) vc.copyWithin(c, last * T, last * T + T);
  else vc.fill(-1, c, c + T);
  const from = ra[i];
  let at = from;
  // Every step at or below the least of the other threads' clock entries is in the clock: the walk stops there.
  let floor = lowest(c, T, t);
  for (let j = Math.min(i, limit) - 1; j > floor; j--) {
    const tj = th[j];
    if (tj === t || vc[c + tj] >= j || !conflict(j, i)) continue;
    const b = j * T;
    for (let k = 0; k < T; k++) if (vc[b + k] > vc[c + k]) vc[c + k] = vc[b + k];
    floor = lowest(c, T, t);
    if (at >= rj.length) { const g = new Int32Array(2 * rj.length); g.set(rj.subarray(0, at)); rj = g; }
    rj[at++] = j;
  }
  vc[c + t] = i;
  // Earliest first, as the races were always listed.
  for (let a = from, b = at - 1; a < b; a++, b--) { const x = rj[a]; rj[a] = rj[b]; rj[b] = x; }
  ra[i + 1] = at;
}

/** The least entry of the clock at c (T threads) but thread t's own. */
function lowest(c: number, T: number, t: number): number {
  let f = 0x7fffffff;
  for (let k = 0; k < T; k++) if (k !== t && vc[c + k] < f) f = vc[c + k];
  return f === 0x7fffffff ? -1 : f;
}

/**
 * Races of the run: report(j, thread of i) for each race (j, i) — "try that thread at decision j" — of the steps
 * i from `after` on, or from the first step whose races may differ from the last call's. The caller `who` vouches
 * that steps before `after` are its last call's (below its limit), footprints and all: if that call was also the
 * last one made (no other caller's in between), they are not compared again.
 * `ended`: threads that finished. `limit`: only steps before it count (a run cut by a sleep set is redundant from
 * there on, search.ts).
 */
export function races(steps: readonly Step[], threads: number, ended: (t: number) => boolean, limit: number, report: (j: number, t: number) => void, after = 0, who: object | null = null): void {
  // Pending steps of threads still in the run when it stopped: unknown footprints, so universal.
  const m = Math.min(limit, steps.length);
  const [n, same] = pack(steps, m, threads, ended, limit >= steps.length, threads === keptThreads && who !== null && who === keptFor ? after : 0);
  // A kept step counted every step before it (it was below both calls' limits): its clock and races stand.
  const from = threads === keptThreads ? Math.min(same, kept, limit) : 0;
  if (lastOf.length < threads) lastOf = new Int32Array(threads);
  lastOf.fill(-1, 0, threads);
  // Each thread's last step before `from`, looked for from there back (mostly a few steps: threads interleave).
  for (let i = from - 1, left = threads; i >= 0 && left > 0; i--) if (lastOf[th[i]] < 0) { lastOf[th[i]] = i; left--; }
  if (from === 0) ra[0] = 0;
  for (let i = from; i < n; i++) {
    step(i, threads, lastOf[th[i]], limit);
    if (i < limit) lastOf[th[i]] = i;
  }
  kept = m; keptThreads = threads; keptFor = who;
  for (let i = Math.min(after, from); i < n; i++) for (let r = ra[i]; r < ra[i + 1]; r++) report(rj[r], th[i]);
}
/** races()' last step of each thread so far. */
let lastOf = new Int32Array(8);
