// The strategy registry: names in the order reports show them.

import { M } from '../mem/machine.js';
import { installOps } from '../xen/ops.js';
import { XEN, xen } from '../xen/state.js';
import { baseline } from './baseline.js';
import { cancel } from './cancel.js';
import { cancelAll } from './cancel-all.js';
import { pcidevs } from './pcidevs.js';
import { rwlockTrylock } from './rwlock-trylock.js';
import { upstream } from './upstream.js';
import { upstreamDrain } from './upstream-drain.js';
import type { Strategy } from './types.js';

export type { Strategy } from './types.js';

export const STRATEGIES: readonly Strategy[] = [baseline, cancel, cancelAll, pcidevs, rwlockTrylock, upstream, upstreamDrain];
export const STRATEGY_NAMES = STRATEGIES.map((s) => s.name);

export function strategyByName(name: string): Strategy | undefined { return STRATEGIES.find((s) => s.name === name); }

/** Record the strategy in the machine (main thread, at boot) and install it here. */
export function selectStrategy(name: string): Strategy {
  const i = STRATEGIES.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`unknown strategy '${name}'`);
  M[xen(XEN.strategy)] = i;
  installOps(STRATEGIES[i].ops);
  return STRATEGIES[i];
}

/** In a worker: install the strategy the machine was booted with. */
export function installMachineStrategy(): Strategy {
  const s = STRATEGIES[M[xen(XEN.strategy)]];
  installOps(s.ops);
  return s;
}

/** Parse "a,b" or "all" into strategies; unknown names are reported all at once. */
export function parseStrategies(list: string): Strategy[] {
  const names = list === 'all' ? STRATEGY_NAMES : list.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !strategyByName(n));
  if (bad.length || names.length === 0) throw new Error(`unknown strategy '${bad.join(',') || list}' (known: ${STRATEGY_NAMES.join(', ')}, all)`);
  return names.map((n) => strategyByName(n)!);
}
