// Xen HEAD (c447b7308b), model document section C: d->pci_lock guards pdev->vpci and the domain's device list,
// BAR rangesets live in struct vpci_bar, the pending slot is {pdev, cmd, rom_only}, MSI-X tables are unlinked on
// deassign and trapped under d->pci_lock, MSI binds PIRQs through the arch hooks, and a capability whose init fails
// is hidden from the emulated capability list. `upstream` is this, unpatched.

import type { Generation } from '../generation.js';
import { iommu_add_device } from '../pci.js';
import { vpci_read_hw, vpci_write_hw } from '../vpci-hw.js';   // vpci.c:367-458, unchanged since 80b0eb095a
import {
  vpci_read, vpci_write, vpci_add_register, vpci_add_register_mask, vpci_remove_registers, vpci_remove_register,
  vpci_assign_device, vpci_deassign_device, vpci_reset_device,
} from './vpci.js';
import { cmd_write, guest_cmd_read, rom_write, modify_bars, modify_decoding, defer_map, map_range, vpci_process_pending } from './header.js';
import { bar_write, guest_mem_bar_read, guest_mem_bar_write, vpci_init_header } from './header-bars.js';
import { pci_add_device, pci_remove_device, assign_device, deassign_device, pci_get_pdev, free_pdev } from './pci.js';
import { hvm_do_resume } from '../domain.js';          // hvm.c: the return to the guest, both generations
import { vpci_init_capabilities, vpci_cleanup_capabilities, vpci_reinit_ext_capabilities } from './cap.js';
import { vpci_init_capability_list, vpci_capability_hide } from './cap-list.js';
import { init_msi, cleanup_msi } from './msi.js';
import { vpci_msi_arch_enable, vpci_msi_arch_disable, vpci_msi_arch_update, vpci_msi_arch_mask, vpci_msi_arch_init } from './msi-arch.js';
import { msix_find, msix_accept, msix_read, msix_write } from './msix.js';
import { control_write, vpci_make_msix_hole, cleanup_msix, init_msix } from './msix-cap.js';
import { control_read, update_entry } from '../msix-control.js';   // msix.c:39-75, unchanged since L21
import { vpci_msix_arch_enable_entry, vpci_msix_arch_disable_entry, vpci_msix_arch_mask_entry } from './vmsi.js';
import { physdev_pci_device_reset, physdev_pci_mmcfg_reserved } from '../hypercall.js';
import type { PciDevPtr, VpciMsixPtr } from '../types.js';

export const head: Generation = {
  name: 'head',
  summary: 'Xen HEAD: d->pci_lock (read for reads and pending work, write for writes and device changes), per-BAR rangesets',
  commit: 'c447b7308b',
  caps: { physdevReset: true, pendingSlot: 'vpci_pdev', guestBarAddress: true, mmcfgReinit: true },
  fns: {
    vpci_read, vpci_write, vpci_read_hw, vpci_write_hw, vpci_add_register, vpci_add_register_mask, vpci_remove_registers,
    vpci_remove_register, vpci_assign_device, vpci_deassign_device, vpci_reset_device,
    vpci_init_header, cmd_write, bar_write, rom_write, guest_cmd_read, guest_mem_bar_read, guest_mem_bar_write,
    modify_bars, modify_decoding, defer_map, map_range, vpci_process_pending,
    hvm_do_resume,
    pci_add_device, pci_remove_device, assign_device, deassign_device, iommu_add_device, pci_get_pdev, free_pdev,
    physdev_pci_device_reset, physdev_pci_mmcfg_reserved,
    vpci_init_capabilities, vpci_cleanup_capabilities, vpci_reinit_ext_capabilities, init_msix, cleanup_msix, control_read, control_write, update_entry,
    msix_find, msix_accept, msix_read, msix_write, vpci_make_msix_hole,
    vpci_msix_arch_enable_entry, vpci_msix_arch_disable_entry, vpci_msix_arch_mask_entry,
    vpci_init_capability_list, vpci_capability_hide, init_msi, cleanup_msi,
    vpci_msi_arch_enable, vpci_msi_arch_disable, vpci_msi_arch_update, vpci_msi_arch_mask, vpci_msi_arch_init,
  },
};
