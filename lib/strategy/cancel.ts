// S1, [PATCH v4 02/11] "vpci: cancel pending map/unmap on vpci removal" (20211105065629.940943-3-andr2000@gmail.com):
// vpci_remove_device cancels *current*'s pending work for the device, and nobody else's.

import { chk } from '../mem/heap.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { VCPU } from '../xen/types.js';
import { current } from '../xen/state.js';
import { slot_targets, cancel_slot } from './slots.js';
import type { Patch } from './patch.js';

/** + void vpci_cancel_pending(const struct pci_dev *pdev): looks only at current; called between unlock and free. */
export function vpci_cancel_pending(pdev: number): void {
  const v = chk(current(), VCPU, 'vpci_cancel_pending');
  yield_point(SITE.vpci_cancel_pending);
  if (slot_targets(v, pdev, 'vpci_cancel_pending')) cancel_slot(v, 'vpci_cancel_pending');
}


// vpci_process_pending: the patch swaps "rangeset_destroy(v->vpci.mem); v->vpci.mem = NULL" for
// vpci_cancel_pending(v->vpci.pdev); there current == v, so the baseline function is the same code.
export const cancel: Patch = {
  name: 'cancel',
  base: 'l21',
  summary: 'v4 02/11: removal cancels only current\'s pending map/unmap for the device',
  source: '20211105065629.940943-3-andr2000@gmail.com; review 5bd70935-4968-b8d4-4d6c-7ec0fc54ee6a@suse.com; §G row S1',
  replace: {
    vpci_remove_device: (prev) => (pdev) => prev(pdev, vpci_cancel_pending),
  },
};
