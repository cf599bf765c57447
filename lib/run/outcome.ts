// The trial's classified outcome in the control block (CTL.OUTCOME = code + 1, 0 = none; CTL.OUTCOME_CPU).
//
// Precedence, highest first:
//   1. an outcome recorded during the trial by a thread (compare-exchange: the first one wins) — a ModelCrash
//      caught by workers/thread.ts, or a layer that records e.g. 'domain-crashed' on purpose. A crash raised after
//      the trial was already stopped (while unwinding) is not recorded: it is an artefact of stopping.
//   2. the scheduler's or watchdog's verdict: 'deadlock' (with the cycle) or 'hang' (step budget, no progress,
//      wall-clock budget).
//   3. 'ok' — which post-trial checks of later layers may still turn into 'stale-mapping' or 'domain-crashed'
//      (they see TrialResult.outcome === 'ok' and call classifyAfter / recordOutcome themselves).

import { CTL, M } from '../mem/machine.js';
import { outcomeCode, outcomeName, type Outcome } from '../mem/crash.js';

/** Record `o` as the trial's outcome unless one is already recorded. Returns true when this call won. */
export function recordOutcome(o: Outcome, cpu: number): boolean {
  if (Atomics.compareExchange(M, CTL.OUTCOME, 0, outcomeCode(o) + 1) !== 0) return false;
  Atomics.store(M, CTL.OUTCOME_CPU, cpu);
  return true;
}

/** The outcome recorded so far, if any. */
export function readOutcome(): { outcome: Outcome; cpu: number } | undefined {
  const v = Atomics.load(M, CTL.OUTCOME);
  return v === 0 ? undefined : { outcome: outcomeName(v - 1), cpu: Atomics.load(M, CTL.OUTCOME_CPU) };
}

export function clearOutcome(): void {
  Atomics.store(M, CTL.OUTCOME, 0);
  Atomics.store(M, CTL.OUTCOME_CPU, 0);
}

/** Combine a finished trial's outcome with a post-trial check: the check only speaks when the trial was 'ok'. */
export function classifyAfter(trialOutcome: Outcome, postCheck: Outcome | undefined): Outcome {
  return trialOutcome === 'ok' && postCheck !== undefined ? postCheck : trialOutcome;
}
