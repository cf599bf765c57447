// merge's inputs: JSON results and JSON lines, read and checked (cli/inputs.ts) so that no run is counted twice;
// and the counts a killed stress run's JSON lines still tell.

import { UsageError } from '../../cli/args.js';
import { readDistinct } from '../../cli/inputs.js';
import { OUTCOMES, type Outcome } from '../../lib/mem/crash.js';
import type { ExploreJson } from '../../report/explore-cells.js';
import type { StressJson, StressResultJson } from '../../report/stress-json.js';
import type { StressJsonlHeader } from '../../report/stress-jsonl.js';

export type Part = ExploreJson | StressJson;
export type Line = Record<string, unknown>;
export interface Input { file: string; json?: Part; lines?: Line[]; header?: StressJsonlHeader }

function parse(file: string, text: string): Input {
  try {
    const j = JSON.parse(text) as Part;
    if (j && (j.command === 'explore' || j.command === 'stress')) return { file, json: j };
    throw new UsageError(`merge: ${file} is not the JSON of vpci-lab stress or explore`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  // A run killed mid-write leaves a cut last line: the lines before it still count.
  const lines = text.split('\n').filter((l) => l.trim()).flatMap((l) => { try { return [JSON.parse(l) as Line]; } catch { return []; } });
  if (lines.length === 0) throw new UsageError(`merge: ${file} is neither JSON nor JSON lines`);
  const header = lines[0]?.header as StressJsonlHeader | undefined;
  return { file, lines: header ? lines.slice(1) : lines, header };
}

/** Every file once, no two identical results. */
export function readInputs(files: string[]): Input[] {
  return readDistinct(files, 'merge').map(({ file, text }) => parse(file, text));
}

/** Trial lines of one strategy and trial, given by two inputs, are the same trial twice. */
export function checkLines(inputs: Input[]): void {
  const seen = new Map<string, string>();
  for (const i of inputs) for (const l of i.lines ?? []) {
    const k = `${String(l.strategy)}\u0000${String(l.trial)}`;
    const twin = seen.get(k);
    if (twin !== undefined && twin !== i.file) throw new UsageError(`merge: trial ${String(l.trial)} of ${String(l.strategy)} is in both ${twin} and ${i.file}`);
    seen.set(k, i.file);
  }
}

/**
 * The campaign a killed stress run's JSON lines still tell (its header gives the settings): trials, outcomes,
 * accesses and hypercalls per strategy. Lock statistics and flight records were only in the JSON it never wrote.
 */
export function stressFromLines(i: Input): StressJson {
  const h = i.header!;
  const by = new Map<string, StressResultJson>();
  for (const l of i.lines ?? []) {
    const name = String(l.strategy);
    let r = by.get(name);
    if (!r) {
      r = { strategy: name, trials: 0, durationMs: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, guestAccesses: 0, hypercalls: 0,
        pendingDone: 0, addRemove: 0, locks: [], lockHistograms: {}, firstFailures: [], lockdep: [], replacedWorkers: 0 };
      by.set(name, r);
    }
    const o = l.outcome as Outcome;
    r.trials++; r.durationMs += Number(l.durationMs) || 0; r.guestAccesses += Number(l.accesses) || 0; r.hypercalls += Number(l.hypercalls) || 0;
    if (o in r.outcomes) r.outcomes[o]++;
  }
  const order = h.strategies ?? [...by.keys()];
  return { command: 'stress', cores: h.cores, interrupted: true, seed: h.seed, shape: h.shape, inject: h.inject, jitter: h.jitter ?? null,
    ...(h.shard ? { shard: h.shard } : {}), results: order.flatMap((s) => (by.has(s) ? [by.get(s)!] : [])) };
}
