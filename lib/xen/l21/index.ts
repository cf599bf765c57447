// Xen late 2021 (4ed7d5525f), model document section A: the generation every 2021 proposal patches.

import { M } from '../../mem/machine.js';
import { chk } from '../../mem/heap.js';
import { spin_lock, spin_unlock } from '../../sync/spinlock.js';
import { PCI_DEV, VPCI } from '../types.js';
import { iommu_add_device } from '../pci.js';
import type { Generation } from '../generation.js';
import { vpci_read_hw, vpci_write_hw } from '../vpci-hw.js';
import { vpci_read, vpci_write, vpci_add_register, vpci_remove_register, vpci_add_handlers, vpci_remove_device } from './vpci.js';
import { init_bars, cmd_write, bar_write, rom_write, modify_bars, modify_decoding, defer_map, map_range, vpci_process_pending } from './header.js';
import { pci_add_device, pci_remove_device, assign_device, deassign_device, pci_get_pdev_by_domain } from './pci.js';
import { hvm_do_resume } from '../domain.js';          // hvm.c: the return to the guest, both generations
import { init_msi } from './msi.js';
import { init_msix, control_read, control_write, update_entry, msix_find, msix_accept, msix_read, msix_write, vpci_make_msix_hole } from './msix.js';
import { vpci_msix_arch_enable_entry, vpci_msix_arch_disable_entry, vpci_msix_arch_mask_entry } from '../vmsi.js';
import type { PciDevPtr, VpciMsixPtr } from '../types.js';

/** spin_lock(&pdev->vpci->lock): no NULL check at L21. */
function vpci_lock(pdev: PciDevPtr, where: string): number {
  const lock = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where) + VPCI.lock;
  spin_lock(lock);
  return lock;
}

const nothing = (): void => {};

export const l21: Generation = {
  name: 'l21',
  summary: 'Xen late 2021: pdev->vpci guarded only by the spinlock inside it, freed with it',
  commit: '4ed7d5525f',
  caps: { physdevReset: false, pendingSlot: 'vpci_mem', guestBarAddress: false, mmcfgReinit: false },
  fns: {
    vpci_read, vpci_write, vpci_read_hw, vpci_write_hw, vpci_add_register, vpci_remove_register, vpci_add_handlers,
    vpci_remove_device,
    init_bars, cmd_write, bar_write, rom_write, modify_bars, modify_decoding, defer_map, map_range, vpci_process_pending,
    init_msix, init_msi, control_read, control_write, update_entry, msix_find, msix_accept, msix_read, msix_write, vpci_make_msix_hole,
    vpci_msix_arch_enable_entry, vpci_msix_arch_disable_entry, vpci_msix_arch_mask_entry,
    hvm_do_resume,
    pci_add_device, pci_remove_device, assign_device, deassign_device, iommu_add_device,
    pci_get_pdev: pci_get_pdev_by_domain,
    vpci_read_enter: nothing, vpci_read_exit: nothing, vpci_write_enter: nothing, vpci_write_exit: nothing,
    vpci_lock,
    vpci_unlock: (_pdev, lock) => spin_unlock(lock),
    modify_bars_get: () => true,
    modify_bars_put: nothing,
    pdev_list_write_enter: nothing,
    pdev_list_write_exit: nothing,
  },
};
