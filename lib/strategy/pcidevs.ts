// S2, the pcidevs_lock idea (16 Nov 2021, 5bd70935... thread; Jan and Julien objected to it on the guest-entry
// path): the global recursive pcidevs_lock around everything that touches vPCI state — config accesses (so also
// defer_map under them), vpci_process_pending and, as before, add/remove. Under that lock removal can drain every
// vCPU's slot that targets the device, and pending work and modify_bars recheck pdev->vpci.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { PCI_DEV, VCPU } from '../xen/types.js';
import type { ModelFns } from '../xen/fn.js';
import { pcidevs_lock, pcidevs_unlock } from '../xen/pci.js';
import { nr_domains, domain_by_index } from '../xen/domain.js';
import { cancel_slot, cancel_domain_slots } from './slots.js';
import { has_vpci } from '../xen/l21/vpci.js';
import { spin_lock } from '../sync/spinlock.js';
import { VPCI } from '../xen/types.js';
import type { Patch } from './patch.js';
import type { PciDevPtr, VcpuPtr } from '../xen/types.js';

/** `!pdev->vpci` after locking: the access goes to hardware (as 6ccb5e308c later made Xen do). */
function lock_pdev_vpci_if_present(pdev: number, where: string): number {
  const vpci = M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci];
  if (vpci === NULL) return 0;
  spin_lock(chk(vpci, VPCI, where) + VPCI.lock);
  return vpci + VPCI.lock;
}

/** Drop every vCPU's pending work for pdev (all domains: current may belong to another one). */
function drain_pending(pdev: number): void {
  for (let i = 0; i < nr_domains(); i++) cancel_domain_slots(domain_by_index(i), pdev, 'drain_pending');
}

const vpci_remove_device = (prev: ModelFns['vpci_remove_device']) => (pdev: PciDevPtr): number => {
  pcidevs_lock();
  drain_pending(pdev);
  // Xen's own order, which examples/patches/pcidevs.patch keeps (4.17 vpci.c:41): has_vpci(pdev->domain) first, and
  // only then 6ccb5e308c's !pdev->vpci. A device whose add failed has no owner: remove-failed-add.
  const where = 'vpci_remove_device';
  const rc = !has_vpci(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where) || M[pdev + PCI_DEV.vpci] === NULL ? 0 : prev(pdev);
  pcidevs_unlock();
  return rc;
};

const vpci_process_pending = (prev: ModelFns['vpci_process_pending']) => (v: VcpuPtr): boolean => {
  if (M[chk(v, VCPU, 'vpci_process_pending') + VCPU.vpci_mem] === NULL) return false; // no lock when idle
  pcidevs_lock();
  if (M[v + VCPU.vpci_mem] === NULL) { pcidevs_unlock(); return false; } // drained while we waited for the lock
  const pdev = M[v + VCPU.vpci_pdev];
  let again = false;
  if (M[chk(pdev, PCI_DEV, 'vpci_process_pending') + PCI_DEV.vpci] === NULL) {
    cancel_slot(v, 'vpci_process_pending');
  } else {
    again = prev(v);
  }
  pcidevs_unlock();
  return again;
};

/** The MSI-X intercept touches vPCI state too: the whole of it under pcidevs_lock (msix_find included). */
function underPcidevs<A extends unknown[], R>(prev: (...a: A) => R): (...a: A) => R {
  return (...a) => { pcidevs_lock(); const r = prev(...a); pcidevs_unlock(); return r; };
}

export const pcidevs: Patch = {
  name: 'pcidevs',
  base: 'l21',
  summary: 'global recursive pcidevs_lock around config accesses, pending work, add and remove',
  source: 'fc1fdee4-e567-038f-a90b-127548a8da02@suse.com (Jan\'s objection); §G row S2',
  replace: {
    vpci_read_enter: () => pcidevs_lock,
    vpci_read_exit: () => pcidevs_unlock,
    vpci_write_enter: () => pcidevs_lock,
    vpci_write_exit: () => pcidevs_unlock,
    vpci_lock: () => lock_pdev_vpci_if_present,
    modify_bars_get: () => (_pdev, tmp) => M[chk(tmp, PCI_DEV, 'modify_bars') + PCI_DEV.vpci] !== NULL,
    vpci_process_pending,
    vpci_remove_device,
    msix_accept: underPcidevs,
    msix_read: underPcidevs,
    msix_write: underPcidevs,
  },
};
