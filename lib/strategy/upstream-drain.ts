// A fix the lab proposes for upstream's stale v->vpci.pdev (model document §C.3, scenario stale-pdev), in the spirit
// of Jan's "drain, don't cancel" (B.3): vpci_remove_device runs with the owner's d->pci_lock held for writing, so
// no vCPU of that domain is inside vpci_process_pending; it empties their slots that target the device before the
// pdev can be freed. Slots of other domains' vCPUs are not covered (their pending step is not excluded by this
// lock); with DomU decoding reset before assignment, as here, none target a device they do not own.

import { M } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { PCI_DEV } from '../xen/types.js';
import type { ModelFns } from '../xen/fn.js';
import { cancel_domain_slots } from './slots.js';
import type { Patch } from './patch.js';

const vpci_remove_device = (prev: ModelFns['vpci_remove_device']) => (pdev: number): number => {
  const where = 'vpci_remove_device';
  cancel_domain_slots(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], pdev, where);
  return prev(pdev);
};

export const upstreamDrain: Patch = {
  name: 'upstream-drain',
  base: 'upstream',
  summary: 'lab proposal: upstream, plus removal drains the owner\'s pending slots under d->pci_lock (no stale pdev)',
  source: 'this lab; xen-vpci-model.md C.3 (derived weakness), B.3 (draining)',
  replace: { vpci_remove_device },
};
