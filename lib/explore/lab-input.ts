// A controlled run gives one CPU the token at a time, and the CPU hands it on at its next yield point. A run that
// ran out of wall-clock time therefore had one CPU that never reached a yield point: code of the user's (an actor, a
// patch) looping or blocking outside the model, not a hang of the modelled Xen (those end at the step budget or as
// a deadlock). Named as the lab-input error it is, with the vCPU and, for a patch, its function.

import { M, region } from '../mem/machine.js';
import { SCHED_HEADER, threadSchedState } from '../sched/index.js';
import { inPatch } from '../strategy/guard.js';
import { guardLabel } from '../strategy/index.js';
import type { TrialResult } from '../run/index.js';

export function labInputError(res: TrialResult, cpuNames: string[], scenario: string, strategy: string, budgetMs: number): string | undefined {
  if (res.mode !== 'controlled' || res.outcome !== 'hang' || res.hang?.reason !== 'wall-clock') return undefined;
  const secs = `${Number((budgetMs / 1000).toFixed(1))}`;
  for (let c = 0; c < cpuNames.length; c++) {
    const label = guardLabel(strategy, inPatch(c));
    if (label) return `${cpuNames[c]} ran ${secs} s inside the patch's ${label} without reaching a yield point (a lab-input error: the patch loops or blocks outside the model)`;
  }
  const token = M[region('sched').base + SCHED_HEADER.TOKEN];
  const name = cpuNames[token];
  if (name === undefined || threadSchedState(token).state === 'done') return undefined;
  return `${name} ran ${secs} s inside its actor (scenario ${scenario}) without reaching a yield point (a lab-input error: the actor, or model code it called, loops or blocks outside the model)`;
}
