// S0, late 2021 (4ed7d5525f): no protection of pdev->vpci beyond the spinlock inside it, freed with it.

import { M } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { spin_lock, spin_unlock } from '../sync/spinlock.js';
import { PCI_DEV, VPCI } from '../xen/types.js';
import { vpci_remove_device } from '../xen/vpci.js';
import { pci_get_pdev_by_domain } from '../xen/pci.js';
import { vpci_process_pending } from '../xen/header.js';
import type { VpciOps } from '../xen/ops.js';
import type { Strategy } from './types.js';

/** spin_lock(&pdev->vpci->lock): no NULL check at L21. */
export function lock_pdev_vpci(pdev: number, where: string): number {
  const lock = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where) + VPCI.lock;
  spin_lock(lock);
  return lock;
}

const nothing = (): void => {};

export const baselineOps: VpciOps = {
  name: 'baseline',
  vpci_read_enter: nothing,
  vpci_read_exit: nothing,
  vpci_write_enter: nothing,
  vpci_write_exit: nothing,
  pci_get_pdev: pci_get_pdev_by_domain,
  vpci_lock: lock_pdev_vpci,
  vpci_unlock: (_pdev, lock) => spin_unlock(lock),
  modify_bars_get: () => true,
  modify_bars_put: nothing,
  pdev_list_write_enter: nothing,
  pdev_list_write_exit: nothing,
  vpci_process_pending,
  vpci_remove_device,
};

export const baseline: Strategy = {
  name: 'baseline',
  summary: 'late-2021 code: nothing protects pdev->vpci or the pending slot from removal',
  source: '4ed7d5525f (L21), model §A; §G row S0',
  ops: baselineOps,
};
