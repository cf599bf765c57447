// The x86 arch hooks MSI-X emulation calls (xen/arch/x86/hvm/vmsi.c L21 842-890; HEAD's take no pcidevs_lock and
// reuse them through msixArchHooks(false, ...), lib/xen/head/vmsi.ts), reduced to the state they keep
// and the locks they take. Binding a PIRQ is recorded as entry->arch.pirq and the device's own table entry is
// programmed (what msi.c does through its mapping of the table); pt_irq_*_bind and the event lock are not
// modelled. At L21 enabling and disabling take pcidevs_lock inside vpci->lock, held by the caller (msix_write,
// control_write), while pci_remove_device takes pcidevs_lock and then vpci->lock: the opposite order.

import { M } from '../mem/machine.js';
import { chk, chkMember } from '../mem/heap.js';
import { ASSERT } from '../mem/crash.js';
import { msix_entry_write } from '../hw/index.js';
import {
  PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, PCI_MSIX_ENTRY_DATA_OFFSET,
  PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, PCI_MSIX_VECTOR_BITMASK,
} from '../hw/pci_regs.js';
import { PCI_DEV, VPCI, MSIX_ENTRY, MSIX_ENTRY_WORDS, INVALID_PIRQ, ENOENT, EOPNOTSUPP } from './types.js';
import { pcidevs_lock, pcidevs_unlock } from './pci.js';
import { msixOf, vmsix_entry_nr } from './vmsix.js';
import type { PciDevPtr } from './types.js';

/** The model's PIRQ for entry nr: one per entry, so the arch code can find the device entry behind it. */
export const PIRQ_BASE = 32;
const MSI_ADDR_BASE_MASK = 0xfff00000, MSI_ADDR_HEADER = 0xfee00000;

const sbdfOf = (pdev: number, where: string): number => M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];

/** guest_mask_msi_irq through the PIRQ: the device entry's mask bit. */
export function vpci_mask_pirq(pdev: number, pirq: number, mask: boolean): void {
  msix_entry_write(sbdfOf(pdev, 'vpci_mask_pirq'), pirq - PIRQ_BASE, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, mask ? PCI_MSIX_VECTOR_BITMASK : 0);
}

/** vpci_msi_update for one MSI-X vector: a non-MSI address is refused; otherwise the device entry is programmed. */
export function vpci_msi_update(pdev: number, entry: number, pirq: number): number {
  const where = 'vpci_msi_update';
  if ((M[entry + MSIX_ENTRY.addr_lo] & MSI_ADDR_BASE_MASK) >>> 0 !== MSI_ADDR_HEADER) return EOPNOTSUPP;
  const sbdf = sbdfOf(pdev, where), nr = pirq - PIRQ_BASE;
  msix_entry_write(sbdf, nr, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, M[entry + MSIX_ENTRY.addr_lo]);
  msix_entry_write(sbdf, nr, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, M[entry + MSIX_ENTRY.addr_hi]);
  msix_entry_write(sbdf, nr, PCI_MSIX_ENTRY_DATA_OFFSET, M[entry + MSIX_ENTRY.data]);
  vpci_mask_pirq(pdev, pirq, M[entry + MSIX_ENTRY.masked] !== 0);
  return 0;
}

export function vpci_msix_arch_mask_entry(entry: number, pdev: PciDevPtr, mask: boolean): void {
  const pirq = M[chkMember(entry, MSIX_ENTRY_WORDS, 'vpci_msix_arch_mask_entry') + MSIX_ENTRY.arch_pirq];
  if (pirq !== INVALID_PIRQ) vpci_mask_pirq(pdev, pirq, mask);
}

/**
 * vpci_msix_arch_enable_entry / _disable_entry. `pcidevs` says whether they take pcidevs_lock as L21 does; since
 * 4f78438b45 they rely on the caller's d->pci_lock instead (`held` asserts it: ASSERT_PDEV_LIST_IS_READ_LOCKED), which
 * breaks the vpci->lock -> pcidevs_lock order.
 */
export function msixArchHooks(pcidevs: boolean, held: (pdev: number, where: string) => void = () => {}): {
  enable(entry: number, pdev: number, table_base: number): number;
  disable(entry: number, pdev: number): number;
} {
  const lock = pcidevs ? pcidevs_lock : (): void => {};
  const unlock = pcidevs ? pcidevs_unlock : (): void => {};
  /** vpci_msi_disable: unbind and unmap the PIRQ; the device entry ends masked. */
  const vpci_msi_disable = (pdev: number, pirq: number): void => { held(pdev, 'vpci_msi_disable'); lock(); vpci_mask_pirq(pdev, pirq, true); unlock(); };
  return {
    enable(entry, pdev) {
      const where = 'vpci_msix_arch_enable_entry';
      ASSERT(() => M[chkMember(entry, MSIX_ENTRY_WORDS, where) + MSIX_ENTRY.arch_pirq] === INVALID_PIRQ, where, 'entry->arch.pirq == INVALID_PIRQ');
      // vpci_msi_enable(pdev, vmsix_entry_nr(pdev->vpci->msix, entry), table_base): its lock assertion first
      // (HEAD vmsi.c:1006-1013 via vpci_msi_enable), then allocate_and_map_msi_pirq; entry->arch.pirq is set after.
      held(pdev, where);
      const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
      const pirq = PIRQ_BASE + vmsix_entry_nr(msixOf(vpci, where), entry);
      M[chkMember(entry, MSIX_ENTRY_WORDS, where, 'write') + MSIX_ENTRY.arch_pirq] = pirq;
      lock();
      const rc = vpci_msi_update(pdev, entry, pirq);
      if (rc) {
        vpci_msi_disable(pdev, pirq);
        M[chkMember(entry, MSIX_ENTRY_WORDS, where, 'write') + MSIX_ENTRY.arch_pirq] = INVALID_PIRQ;
      }
      unlock();
      return rc;
    },
    disable(entry, pdev) {
      const where = 'vpci_msix_arch_disable_entry';
      const pirq = M[chkMember(entry, MSIX_ENTRY_WORDS, where) + MSIX_ENTRY.arch_pirq];
      if (pirq === INVALID_PIRQ) return ENOENT;
      vpci_msi_disable(pdev, pirq);
      M[chkMember(entry, MSIX_ENTRY_WORDS, where, 'write') + MSIX_ENTRY.arch_pirq] = INVALID_PIRQ;
      return 0;
    },
  };
}

const l21Hooks = msixArchHooks(true);
export const vpci_msix_arch_enable_entry = l21Hooks.enable;
export const vpci_msix_arch_disable_entry = l21Hooks.disable;
