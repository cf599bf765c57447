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

/**
 * Races of the run: pairs (j, thread of i) — "try that thread at decision j". `ended`: threads that finished.
 * `limit`: only steps before it count (a run cut by a sleep set is redundant from there on, search.ts).
 */
export function races(steps: readonly Step[], threads: number, ended: (t: number) => boolean, limit = steps.length): Array<[number, number]> {
  const all: Step[] = steps.slice(0, limit);
  // Pending steps of threads still in the run when it stopped: unknown footprints, so universal.
  if (limit >= steps.length) for (let t = 0; t < threads; t++) if (!ended(t)) all.push({ thread: t, runnable: 0, current: -1, yielding: false, fp: [], universal: true });
  const n = all.length;
  const vc: Int32Array[] = [];
  const lastOf = new Int32Array(threads).fill(-1);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const t = all[i].thread;
    const c = lastOf[t] >= 0 ? Int32Array.from(vc[lastOf[t]]) : new Int32Array(threads).fill(-1);
    const deps: number[] = [];
    for (let j = 0; j < Math.min(i, limit); j++) if (all[j].thread !== t && overlap(all[j], all[i])) deps.push(j);
    for (const j of deps) for (let k = 0; k < threads; k++) if (vc[j][k] > c[k]) c[k] = vc[j][k];
    c[t] = i;
    vc.push(c);
    // (j, i) is a race when no other direct predecessor of i already has j before it.
    const preds = lastOf[t] >= 0 ? [lastOf[t], ...deps] : deps;
    for (const j of deps) {
      const tj = all[j].thread;
      if (!preds.some((k) => k !== j && vc[k][tj] >= j)) out.push([j, t]);
    }
    if (i < limit) lastOf[t] = i;
  }
  return out;
}
