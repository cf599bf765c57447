// msix.c's control_read and update_entry: unchanged from late 2021 to HEAD (msix.c HEAD 39-75), shared by both.

import { M } from '../mem/machine.js';
import { chk, chkMember } from '../mem/heap.js';
import { PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL } from '../hw/pci_regs.js';
import { PCI_DEV, VPCI, VPCI_MSIX, MSIX_ENTRY, MSIX_ENTRY_WORDS, VPCI_MSIX_TABLE, ENOENT } from './types.js';
import { fn } from './fn.js';
import { vmsix_table_base } from './vmsix.js';
import type { PciDevPtr } from './types.js';

const vpciOf = (pdev: number, where: string): number => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);

/** control_read (msix.c's; msi.c's function of the same name is not modelled). */
export function control_read(_pdev: number, _reg: number, msix: number): number {
  chk(msix, VPCI_MSIX, 'control_read');
  return (M[msix + VPCI_MSIX.max_entries] - 1) | (M[msix + VPCI_MSIX.enabled] ? PCI_MSIX_FLAGS_ENABLE : 0) |
    (M[msix + VPCI_MSIX.masked] ? PCI_MSIX_FLAGS_MASKALL : 0);
}

/** update_entry: disable then re-enable an entry so the arch code picks up a new address or data. */
export function update_entry(entry: number, pdev: PciDevPtr, _nr: number): void {
  let rc = fn.vpci_msix_arch_disable_entry(entry, pdev);
  if (rc && rc !== ENOENT) return;           // gprintk: unable to disable entry for update
  rc = fn.vpci_msix_arch_enable_entry(entry, pdev, vmsix_table_base(vpciOf(pdev, 'update_entry'), VPCI_MSIX_TABLE, 'update_entry'));
  if (rc) return;                            // gprintk: unable to enable entry
  M[chkMember(entry, MSIX_ENTRY_WORDS, 'update_entry', 'write') + MSIX_ENTRY.updated] = 0;
}
