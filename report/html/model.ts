// The typed model of an HTML report page (stress/report/html.ts renders it). stress, explore, verify and merge
// each build one from their results; nothing in it is HTML, so every string is escaped once, by the renderer.

import * as hdr from 'hdr-histogram-js';
import type { TimelineInput } from '../timeline.js';

/** How a cell or a failure is coloured: the scenario's verdict on an outcome, or neutral for plain figures. */
export type Tone = 'expected' | 'acceptable' | 'forbidden' | 'neutral';

/** What an outcome is, whatever the verdict: the colour a reader sees first. */
export type OutcomeKind = 'crash' | 'clean' | 'other';

export interface CellPart {
  label: string; count?: number;
  /** The verdict, shown as a mark (+ expected, ~ acceptable, ! surprise). */
  tone: Tone;
  /** The outcome it stands for (its colour); plain figures have none. */
  outcome?: string;
}
export interface MatrixCell {
  parts: CellPart[];
  /** Hover text. */
  title?: string;
  /** id of a failure section on the page (the cell links to it). */
  href?: string;
}
export interface Matrix { corner: string; columns: string[]; rows: Array<{ name: string; description?: string; cells: Array<MatrixCell | null> }> }

/** A latency distribution, in nanoseconds: percentiles and log2 bins (lo inclusive, hi exclusive). */
export interface Distribution { count: number; p50: number; p90: number; p99: number; max: number; bins: Array<{ lo: number; hi: number; count: number }> }

export interface LockRow { group: string; lock: string; acquisitions: number; contended: number; wait?: Distribution; hold?: Distribution }

export interface FailureSection {
  /** Unique on the page; matrix cells link to it. */
  id: string;
  title: string;
  tone: Tone;
  /** One line: outcome, function, vCPU, run or trial. */
  summary: string;
  replay?: string;
  timeline?: TimelineInput;
  /** e.g. that the timeline shows only the last N events. */
  note?: string;
  /** The outcome (its colour), the scenario's description, and what the failure is: a known bug or a finding. */
  outcome?: string;
  description?: string;
  provenance?: string;
  /** Where the freed object was freed, beside the bad access (a use-after-free's other half), when the trace shows it. */
  otherHalf?: string;
}

export interface ReportModel {
  title: string;
  /** Settings, one line. */
  subtitle: string;
  matrix: Matrix;
  legend: Array<{ tone: Tone; text: string }>;
  locks?: LockRow[];
  failures: FailureSection[];
  notes?: string[];
  /** The top of the page: the surprises (each linking to its failure) and where the report was made. */
  summary?: { surprises: Array<{ text: string; href?: string }>; env: string; what?: [one: string, many: string, none: string] };
}

/** Percentiles and log2 bins of an HdrHistogram (values in ns). */
export function distributionOf(h: hdr.Histogram): Distribution | undefined {
  if (h.totalCount === 0) return undefined;
  const counts = new Map<number, number>();
  if (h instanceof hdr.JsHistogram) {
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      const k = v.valueIteratedTo < 1 ? 0 : Math.floor(Math.log2(v.valueIteratedTo));
      counts.set(k, (counts.get(k) ?? 0) + v.countAtValueIteratedTo);
    }
  }
  const ks = [...counts.keys()];
  const bins = [];
  if (ks.length) for (let k = Math.min(...ks); k <= Math.max(...ks); k++) bins.push({ lo: k === 0 ? 0 : 2 ** k, hi: 2 ** (k + 1), count: counts.get(k) ?? 0 });
  return { count: h.totalCount, p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), max: h.maxValue, bins };
}

const CRASHES = new Set(['null-deref', 'use-after-free', 'double-free', 'assert', 'bug', 'stale-mapping', 'deadlock', 'hang', 'restart-budget']);

/** Crash red, clean green, the rest (a DomU crashed on purpose, a refused hypercall) neither. */
export function outcomeKind(outcome: string): OutcomeKind {
  return outcome === 'ok' ? 'clean' : CRASHES.has(outcome) ? 'crash' : 'other';
}

/** The colour of a whole cell: red if any part crashed, green if every part is clean. */
export function cellKind(parts: CellPart[]): OutcomeKind | undefined {
  const ks = parts.filter((p) => p.outcome !== undefined).map((p) => outcomeKind(p.outcome!));
  if (ks.length === 0) return undefined;
  return ks.includes('crash') ? 'crash' : ks.every((k) => k === 'clean') ? 'clean' : 'other';
}

/** The tone of a whole cell: its worst part. */
export function worstTone(parts: CellPart[]): Tone {
  for (const t of ['forbidden', 'acceptable', 'expected'] as const) if (parts.some((p) => p.tone === t)) return t;
  return 'neutral';
}
