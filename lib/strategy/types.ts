// One strategy = one module exporting a Strategy: its name, where it comes from, and the model operations it
// changes (lib/xen/ops.ts). The expected outcome of each strategy per scenario is data in the scenario, not here.

import type { VpciOps } from '../xen/ops.js';

export interface Strategy {
  readonly name: string;
  /** One line: what the strategy does. */
  readonly summary: string;
  /** The patch or mail it models (Message-ID or commit), and the row of xen-vpci-model.md §G. */
  readonly source: string;
  readonly ops: VpciOps;
}
