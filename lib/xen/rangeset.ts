// xen/common/rangeset.c, reduced: a sorted set of disjoint [s, e] ranges under the rangeset's own rwlock.
// rangeset_consume_ranges holds that lock in write mode for the whole call and stops at the first non-zero rc,
// leaving what was not consumed in the set (the -ERESTART path of vpci_process_pending).

import { M } from '../mem/machine.js';
import { chk, xzalloc, xfree, NULL } from '../mem/heap.js';
import { rwlock_init, write_lock, write_unlock, read_lock, read_unlock } from '../sync/rwlock.js';
import { RANGESET, RANGESET_MAX, ENOMEM, type RangesetPtr } from './types.js';
import { CLASS } from './state.js';

export function rangeset_new(): number {
  const r = xzalloc(RANGESET);
  if (r !== NULL) rwlock_init(r + RANGESET.lock, CLASS.rangeset);
  return r;
}

export function rangeset_destroy(r: number, where = 'rangeset_destroy'): void {
  if (r === NULL) return;
  xfree(r, where);
}

const S = (r: number, i: number): number => r + RANGESET.ranges + 2 * i;

/**
 * Frames are stored in 32-bit words. Frames past 2^31 (BARs placed above 8 TiB) collapse onto one far frame: no
 * p2m maps it, so an operation on them fails the way mapping non-existent MMIO does, instead of wrapping around.
 */
export const FAR_FRAME = 0x7fffffff;
const clampFrame = (f: number): number => (f > FAR_FRAME ? FAR_FRAME : f);

/** Rebuild the range array from a list (small sets: clarity over cleverness). */
function store(r: RangesetPtr, list: Array<[number, number]>): number {
  // A stable insertion sort by start, as list.sort did: the lists hold a few ranges, and Array.prototype.sort with
  // a comparator costs more than the sorting itself.
  for (let i = 1; i < list.length; i++) {
    const x = list[i];
    let j = i;
    for (; j > 0 && list[j - 1][0] > x[0]; j--) list[j] = list[j - 1];
    list[j] = x;
  }
  const merged: Array<[number, number]> = [];
  for (const [s, e] of list) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1] + 1) last[1] = Math.max(last[1], e); else merged.push([s, e]);
  }
  if (merged.length > RANGESET_MAX) return ENOMEM;
  M[r + RANGESET.nr] = merged.length;
  for (let i = 0; i < merged.length; i++) { M[S(r, i)] = merged[i][0]; M[S(r, i) + 1] = merged[i][1]; }
  return 0;
}

function load(r: RangesetPtr): Array<[number, number]> {
  const n = M[r + RANGESET.nr];
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) out.push([M[S(r, i)], M[S(r, i) + 1]]);
  return out;
}

export function rangeset_add_range(r: number, s: number, e: number): number {
  s = clampFrame(s); e = clampFrame(e);
  write_lock(chk(r, RANGESET, 'rangeset_add_range') + RANGESET.lock);
  const rs = chk(r, RANGESET, 'rangeset_add_range', 'write');
  const rc = store(rs, [...load(rs), [s, e]]);
  write_unlock(r + RANGESET.lock);
  return rc;
}

export function rangeset_remove_range(r: number, s: number, e: number): number {
  s = clampFrame(s); e = clampFrame(e);
  write_lock(chk(r, RANGESET, 'rangeset_remove_range') + RANGESET.lock);
  const rs = chk(r, RANGESET, 'rangeset_remove_range', 'write');
  const out: Array<[number, number]> = [];
  for (const [a, b] of load(rs)) {
    if (b < s || a > e) { out.push([a, b]); continue; }
    if (a < s) out.push([a, s - 1]);
    if (b > e) out.push([e + 1, b]);
  }
  const rc = store(rs, out);
  write_unlock(r + RANGESET.lock);
  return rc;
}

/** A NULL set overlaps nothing (rangeset.c HEAD 279-280): HEAD asks it of BARs that have no rangeset. */
export function rangeset_overlaps_range(r: number, s: number, e: number): boolean {
  if (r === NULL) return false;
  s = clampFrame(s); e = clampFrame(e);
  read_lock(chk(r, RANGESET, 'rangeset_overlaps_range') + RANGESET.lock);
  const hit = load(chk(r, RANGESET, 'rangeset_overlaps_range')).some(([a, b]) => a <= e && b >= s);
  read_unlock(r + RANGESET.lock);
  return hit;
}

/** NULL counts as empty (rangeset.c HEAD 430-434). */
export function rangeset_is_empty(r: number): boolean {
  return r === NULL || M[chk(r, RANGESET, 'rangeset_is_empty') + RANGESET.nr] === 0;
}

/** rangeset_purge (rangeset.c HEAD 464-473): drop every range, keep the set; Xen takes no lock here either. */
export function rangeset_purge(r: number): void {
  if (r === NULL) return;
  M[chk(r, RANGESET, 'rangeset_purge') + RANGESET.nr] = 0;
}

export type ConsumeCb = (s: number, e: number, consumed: { c: number }) => number;

/**
 * rangeset.c HEAD 360-386: the set is written again after every callback (x->s += consumed, 376), and
 * rangeset_destroy (475-491; L21 451-470)
 * frees it without taking r->lock, so a set freed while a vCPU consumes it is a use-after-free here, at this site.
 */
export function rangeset_consume_ranges(r: number, cb: ConsumeCb): number {
  const where = 'rangeset_consume_ranges';
  let rc = 0;
  write_lock(chk(r, RANGESET, where) + RANGESET.lock);
  while (M[chk(r, RANGESET, where) + RANGESET.nr] > 0) {
    const s = M[S(r, 0)], e = M[S(r, 0) + 1];
    const consumed = { c: 0 };
    rc = cb(s, e, consumed);
    const rs = chk(r, RANGESET, where, 'write');
    const ns = s + consumed.c;
    if (ns > e) store(rs, load(rs).slice(1)); else M[S(rs, 0)] = ns;
    if (rc) break;
  }
  write_unlock(r + RANGESET.lock);
  return rc;
}

/** The ranges, for reports and tests. */
export function rangeset_ranges(r: number): Array<[number, number]> {
  return load(chk(r, RANGESET, 'rangeset_ranges'));
}
