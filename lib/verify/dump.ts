// VPCI_SEARCH_DUMP=FILE: every search (search.ts) appends to FILE, one JSON a line, its options, each prefix it
// asks for, each run's trace and what record() made of it, so that scripts/bench-search.mjs can replay the search's
// bookkeeping alone, without threads: to time it, and to check that a change leaves the search as it was.

import fs from 'node:fs';
import type { Trace } from './trace.js';

const FILE = process.env.VPCI_SEARCH_DUMP;
export const dumping = FILE !== undefined && FILE !== '';
let fd = -1, searches = 0;

function put(x: object): void {
  if (fd < 0) fd = fs.openSync(FILE!, 'a');
  fs.writeSync(fd, JSON.stringify(x) + '\n');
}

/** A new search: its id (unique across the processes of a --jobs run). */
export function dumpSearch(o: { bound: number }): string {
  const id = `${process.pid}.${++searches}`;
  put({ new: id, o: { ...o, bound: Number.isFinite(o.bound) ? o.bound : null } });
  return id;
}

export function dumpPrefix(id: string, p: { decisions: Uint8Array; faults: number[] } | null): void {
  put({ id, p: p && { d: [...p.decisions], f: p.faults } });
}

export function dumpTrace(id: string, tr: Trace, ended: (t: number) => boolean): void {
  let mask = 0;
  for (let t = 0; t < tr.threads; t++) if (ended(t)) mask |= 1 << t;
  put({ id, tr: { threads: tr.threads, steps: tr.steps.map((s) => ({ ...s, fp: [...s.fp] })), faults: tr.faults }, ended: mask });
}

export function dumpRecord(id: string, r: { sleepCut: number; preemptions: number; foreign: boolean }): void {
  put({ id, cut: r.sleepCut, pre: r.preemptions, foreign: r.foreign });
}
