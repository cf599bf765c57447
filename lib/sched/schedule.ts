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

import { MAX_THREADS } from '../mem/machine.js';

export const SCHEDULE_VERSION = 'S1';

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

export interface Schedule { threads: number; decisions: Uint8Array }

export function threadLetter(c: number): string { return String.fromCharCode(97 + c); }

export function formatSchedule(threads: number, decisions: ArrayLike<number>): string {
  let out = `${SCHEDULE_VERSION}:${threads}:`;
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
  const m = /^([^:]*):([^:]*):(.*)$/s.exec(s);
  if (!m) throw new ScheduleError(`malformed schedule '${clip(s)}': expected ${SCHEDULE_VERSION}:<threads>:<decisions>, e.g. S1:2:a3b2a`);
  if (m[1] !== SCHEDULE_VERSION) throw new ScheduleError(`malformed schedule '${clip(s)}': unknown version '${clip(m[1])}' (expected ${SCHEDULE_VERSION})`);
  if (!/^[1-9]\d?$/.test(m[2]) || Number(m[2]) > MAX_THREADS) {
    throw new ScheduleError(`malformed schedule '${clip(s)}': thread count must be 1..${MAX_THREADS}, got '${clip(m[2])}'`);
  }
  const threads = Number(m[2]);
  const body = m[3];
  if (body.length === 0) throw new ScheduleError(`malformed schedule '${clip(s)}': no decisions`);
  const runs: Array<[number, number]> = [];
  let total = 0;
  const re = /([a-z])(\d*)/y;
  for (let i = 0; i < body.length;) {
    re.lastIndex = i;
    const r = re.exec(body);
    if (!r) throw new ScheduleError(`malformed schedule '${clip(s)}': unexpected '${body[i]}' at decision text offset ${i}`);
    const c = r[1].charCodeAt(0) - 97;
    if (c >= threads) throw new ScheduleError(`malformed schedule '${clip(s)}': thread '${r[1]}' but the schedule has ${threads} thread(s) (a-${threadLetter(threads - 1)})`);
    if (r[2] !== '' && !/^[1-9]\d{0,7}$/.test(r[2])) throw new ScheduleError(`malformed schedule '${clip(s)}': bad repeat count '${r[2]}' after '${r[1]}'`);
    const n = r[2] === '' ? 1 : Number(r[2]);
    total += n;
    if (total > MAX_DECISIONS) throw new ScheduleError(`malformed schedule '${clip(s)}': more than ${MAX_DECISIONS} decisions`);
    runs.push([c, n]);
    i = re.lastIndex;
  }
  const decisions = new Uint8Array(total);
  let k = 0;
  for (const [c, n] of runs) { decisions.fill(c, k, k + n); k += n; }
  return { threads, decisions };
}

function clip(s: string): string { return s.length > 60 ? `${s.slice(0, 57)}...` : s; }
