// S1, [PATCH v4 02/11] "vpci: cancel pending map/unmap on vpci removal" (20211105065629.940943-3-andr2000@gmail.com):
// vpci_remove_device cancels *current*'s pending work for the device, and nobody else's.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { spin_lock, spin_unlock } from '../sync/spinlock.js';
import { yield_point } from '../sched/mode.js';
import { S } from '../trace/sites.js';
import { PCI_DEV, VPCI, VCPU } from '../xen/types.js';
import { current } from '../xen/state.js';
import { has_vpci, vpci_free_handlers, vpci_free } from '../xen/vpci.js';
import { rangeset_destroy } from '../xen/rangeset.js';
import { baselineOps } from './baseline.js';
import type { Strategy } from './types.js';

/** + void vpci_cancel_pending(const struct pci_dev *pdev): looks only at current. */
export function vpci_cancel_pending(pdev: number): void {
  const v = chk(current(), VCPU, 'vpci_cancel_pending');
  yield_point(S.vpci_cancel_pending);
  if (M[v + VCPU.vpci_mem] !== NULL && M[v + VCPU.vpci_pdev] === pdev) {
    rangeset_destroy(M[v + VCPU.vpci_mem], 'vpci_cancel_pending');
    M[v + VCPU.vpci_mem] = NULL;
  }
}

function vpci_remove_device(pdev: number): number {
  const where = 'vpci_remove_device';
  if (!has_vpci(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where)) return 0;
  const vpci = chk(M[pdev + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);
  vpci_free_handlers(vpci, where);
  spin_unlock(vpci + VPCI.lock);
  yield_point(S['vpci_remove_device:after-unlock']);
  vpci_cancel_pending(pdev);                 // + the patch
  vpci_free(pdev, vpci, where);
  return 0;
}

// vpci_process_pending: the patch swaps "rangeset_destroy(v->vpci.mem); v->vpci.mem = NULL" for
// vpci_cancel_pending(v->vpci.pdev); there current == v, so the baseline function is the same code.
export const cancel: Strategy = {
  name: 'cancel',
  summary: 'v4 02/11: removal cancels only current\'s pending map/unmap for the device',
  source: '20211105065629.940943-3-andr2000@gmail.com; review 5bd70935-4968-b8d4-4d6c-7ec0fc54ee6a@suse.com; §G row S1',
  ops: { ...baselineOps, name: 'cancel', vpci_remove_device },
};
