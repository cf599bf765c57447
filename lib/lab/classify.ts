// After a trial: the runner's outcome (crash, deadlock, hang) wins; a trial that ended cleanly is then checked for
// stale mappings and for DomUs the strategy chose to crash. One function, used by stress, repro and explore.

import type { Outcome } from '../mem/crash.js';
import type { TrialResult } from '../run/trial.js';
import { domain_is_crashed } from '../xen/domain.js';
import { staleMappingScan } from '../check/stale.js';
import { vcpuNames } from './names.js';
import type { World } from './boot.js';

export interface Classified {
  outcome: Outcome;
  /** Function (or check) where it happened, the vCPU(s) involved, and a one-line explanation. */
  where: string;
  vcpu: string;
  message: string;
}

export function classifyTrial(res: TrialResult, world: World, cpuNames: string[] = vcpuNames(world)): Classified {
  if (res.outcome !== 'ok') {
    return {
      outcome: res.outcome,
      where: res.crash?.where ?? (res.deadlock ? 'lock wait-for graph' : res.hang ? res.hang.reason : ''),
      vcpu: res.crash ? cpuNames[res.crash.cpu] ?? `cpu${res.crash.cpu}` : res.deadlock ? res.deadlock.cpus.map((c) => cpuNames[c] ?? `cpu${c}`).join(',') : '',
      message: res.crash?.message ?? res.deadlock?.cycle ?? res.hang?.detail ?? '',
    };
  }
  // A crashed domain's p2m goes away with it: what it still maps is not a stale mapping (its crash is the outcome).
  const found = staleMappingScan(world);
  const stale = found.length === 0 ? found : found.filter((f) => f.domain === 0 || !domain_is_crashed(world.domains[f.domain]));
  if (stale.length) return { outcome: 'stale-mapping', where: 'stale-mapping scan', vcpu: '', message: stale.slice(0, 3).map((f) => f.what).join('; ') };
  for (let d = 1; d < world.domains.length; d++) {
    if (domain_is_crashed(world.domains[d])) return { outcome: 'domain-crashed', where: 'domain_crash', vcpu: '', message: `d${d} was crashed by the strategy after a failed map` };
  }
  return { outcome: 'ok', where: '', vcpu: '', message: '' };
}
