// xen/drivers/vpci/msix.c at HEAD (c447b7308b), the capability side (split off msix.ts for length): the control
// register's write handler, the p2m hole, and init_msix / cleanup_msix, which HEAD registers as the MSI-X entry of
// its capability array (REGISTER_VPCI_CAP(MSIX, init_msix, cleanup_msix), msix.c:808; run by cap.ts). Both run
// with pdev->domain->pci_lock held for writing (vpci_assign_device / vpci_deassign_device), so the list_add and the
// list_del of d->arch.hvm.msix_tables exclude every trap handler, which walks it under the read lock. Line numbers
// below are msix.c's at c447b7308b.

import { M } from '../../mem/machine.js';
import { chk, xzalloc_words, xfree, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_is_locked } from '../../sync/spinlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { pci_conf_read16, pci_conf_read32, pci_conf_write16 } from '../../hw/index.js';
import {
  PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_TABLE,
  PCI_MSIX_PBA, PCI_MSIX_BIRMASK, PCI_MSIX_ENTRY_SIZE, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE,
} from '../../hw/pci_regs.js';
import {
  DOMAIN, PCI_DEV, VPCI, VPCI_MSIX, MSIX_ENTRY, BAR, NR_BARS, VPCI_MSIX_TABLE, VPCI_MSIX_PBA, VPCI_MSIX_MEM_NUM,
  VPCI_BAR_MEM32, VPCI_BAR_MEM64_LO, INVALID_PIRQ, ENOMEM, ENOENT, ENODEV, EEXIST,
} from '../types.js';
import { HANDLER } from '../handlers.js';
import { fn } from '../fn.js';
import { pci_find_cap_offset } from '../pci.js';
import { p2m_lookup, clear_identity_p2m_entry } from '../p2m.js';
import { bar } from '../bars.js';
import { control_read } from '../msix-control.js';
import { vmsix_table_addr, vmsix_table_size, vmsix_table_bar_valid, msix_entry, msix_words, msix_list_add, msix_list_del } from '../vmsix.js';
import type { PciDevPtr, VpciPtr } from '../types.js';

const vpciOf = (pdev: number, where: string): number => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
const isHwdom = (d: number, where: string): boolean => M[chk(d, DOMAIN, where) + DOMAIN.is_hardware_domain] !== 0;
const PFN_DOWN = (a: number): number => Math.floor(a / 4096);
/** pdev->msix_pos: set from the capability walk when the pdev is allocated (passthrough/msi.c:45). */
export const msix_pos = (pdev: number, where: string): number => pci_find_cap_offset(M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf], PCI_CAP_ID_MSIX);
const msix_control_reg = (pos: number): number => pos + PCI_MSIX_FLAGS;

/** control_write (msix.c:77-155): HEAD adds the DomU INTx disable (143-147). */
export function control_write(pdev: PciDevPtr, reg: number, val: number, msix: number): void {
  const where = 'control_write';
  chk(msix, VPCI_MSIX, where);
  const new_masked = (val & PCI_MSIX_FLAGS_MASKALL) !== 0, new_enabled = (val & PCI_MSIX_FLAGS_ENABLE) !== 0;
  const masked = M[msix + VPCI_MSIX.masked] !== 0, enabled = M[msix + VPCI_MSIX.enabled] !== 0;
  const n = M[msix + VPCI_MSIX.max_entries];
  if (new_masked === masked && new_enabled === enabled) return;
  if (new_enabled && !new_masked && (!enabled || masked)) {
    for (let i = 0; i < n; i++) {
      const e = msix_entry(chk(msix, VPCI_MSIX, where), i);   // update_entry lets other CPUs run
      if (!M[e + MSIX_ENTRY.masked] && M[e + MSIX_ENTRY.updated]) fn.update_entry(e, pdev, i);
    }
  } else if (!new_enabled && enabled) {
    for (let i = 0; i < n; i++) {
      const rc = fn.vpci_msix_arch_disable_entry(msix_entry(msix, i), pdev);
      if (rc === 0) M[msix_entry(chk(msix, VPCI_MSIX, where, 'write'), i) + MSIX_ENTRY.updated] = 1;
      else if (rc !== ENOENT) return;        // gprintk: unable to disable entry
    }
  }
  const sbdf = M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
  if (new_enabled && !enabled && !isHwdom(M[pdev + PCI_DEV.domain], where)) {
    pci_conf_write16(sbdf, PCI_COMMAND, pci_conf_read16(sbdf, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);   // pci_intx(pdev, false)
    M[vpciOf(pdev, where) + VPCI.guest_cmd] |= PCI_COMMAND_INTX_DISABLE;
  }
  M[chk(msix, VPCI_MSIX, where, 'write') + VPCI_MSIX.masked] = new_masked ? 1 : 0;
  M[msix + VPCI_MSIX.enabled] = new_enabled ? 1 : 0;
  // pci_msi_conf_write_intercept lets the write through (its host-side bookkeeping is not modelled).
  pci_conf_write16(sbdf, reg, control_read(pdev, reg, msix));
}

/**
 * vpci_make_msix_hole (msix.c:595-662): no identity mapping may cover the table or PBA of an enabled BAR (guest
 * addresses); for the hardware domain also drop Xen's own maps of the adjacent pages, which needs vpci->lock once
 * the domain runs (there are maps only then).
 */
export function vpci_make_msix_hole(pdev: PciDevPtr): number {
  const where = 'vpci_make_msix_hole';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  const vpci = vpciOf(pdev, where);
  const msix = M[vpci + VPCI.msix];
  if (msix === NULL) return 0;
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
    const a = vmsix_table_addr(vpci, i, where, BAR.guest_addr_lo);
    if (!vmsix_table_bar_valid(vpci, i, where)) continue;
    for (let f = PFN_DOWN(a), end = PFN_DOWN(a + vmsix_table_size(vpci, i, where) - 1); f <= end; f++) {
      const mfn = p2m_lookup(d, f);
      if (mfn < 0) continue;                          // p2m_mmio_dm / p2m_invalid
      if (mfn !== f) return EEXIST;                   // gprintk: existing mapping clobbers MSIX MMIO area
      clear_identity_p2m_entry(d, f);                 // p2m_remove_identity_entry
    }
  }
  if (isHwdom(d, where)) {
    for (let i = 0; i < 4; i++) {
      if (!M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.table + i]) continue;
      ASSERT(() => spin_is_locked(vpci + VPCI.lock), where, 'spin_is_locked(&pdev->vpci->lock)');
      M[msix + VPCI_MSIX.table + i] = NULL;           // iounmap
    }
  }
  return 0;
}

/** cleanup_msix (msix.c:664-711): off the domain's list and freed; `hide` leaves a read-only control register. */
export function cleanup_msix(pdev: PciDevPtr, hide: boolean): number {
  const where = 'cleanup_msix';
  const vpci = vpciOf(pdev, where) as VpciPtr;
  const msix = M[vpci + VPCI.msix];
  if (msix !== NULL) {
    msix_list_del(M[pdev + PCI_DEV.domain], msix, where);       // c14aea137e: L21 had no list_del
    xfree(msix, where);                                          // iounmap of table[] is only the free here
    M[vpci + VPCI.msix] = NULL;                                  // XFREE
  }
  if (!hide) return 0;
  const reg = msix_control_reg(msix_pos(pdev, where));
  let rc = fn.vpci_remove_registers(vpci, reg, 2);
  ASSERT(rc === 0, where, 'unreachable: fail to remove MSIX handlers');
  if (rc || !isHwdom(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where)) return rc;
  rc = fn.vpci_add_register(vpci, HANDLER.vpci_hw_read16, 0, reg, 2, 0);   // MSI-X stays disabled for Dom0
  return rc;
}

/** msix.c:738-776: the table and PBA must sit inside a memory BAR. */
function tables_valid(vpci: number, msix: number, max_entries: number): boolean {
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
    const bir = M[msix + VPCI_MSIX.tables + i] & PCI_MSIX_BIRMASK;
    const offset = (M[msix + VPCI_MSIX.tables + i] & ~PCI_MSIX_BIRMASK) >>> 0;
    const size = i === VPCI_MSIX_TABLE ? max_entries * PCI_MSIX_ENTRY_SIZE : Math.ceil(Math.ceil(max_entries / 8) / 8) * 8;
    if (bir >= NR_BARS) return false;                // out of range BIR
    const b = bar(vpci, bir), type = M[b + BAR.type];
    if (type !== VPCI_BAR_MEM32 && type !== VPCI_BAR_MEM64_LO) return false;
    if (offset + size > (M[b + BAR.size_hi] >>> 0) * 2 ** 32 + (M[b + BAR.size_lo] >>> 0)) return false;
  }
  return true;
}

/** init_msix (msix.c:713-807): after vpci_init_header at HEAD (vpci.c:158-162), so the BARs are already known. */
export function init_msix(pdev: PciDevPtr): number {
  const where = 'init_msix';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  const sbdf = M[pdev + PCI_DEV.sbdf];
  const pos = msix_pos(pdev, where);
  if (!pos) return 0;
  const max_entries = (pci_conf_read16(sbdf, msix_control_reg(pos)) & PCI_MSIX_FLAGS_QSIZE) + 1;   // msix_table_size
  const msix = xzalloc_words(VPCI_MSIX, msix_words(max_entries));
  if (msix === NULL) return ENOMEM;
  M[msix + VPCI_MSIX.tables + VPCI_MSIX_TABLE] = pci_conf_read32(sbdf, pos + PCI_MSIX_TABLE);
  M[msix + VPCI_MSIX.tables + VPCI_MSIX_PBA] = pci_conf_read32(sbdf, pos + PCI_MSIX_PBA);
  const vpci = vpciOf(pdev, where) as VpciPtr;
  if (!tables_valid(vpci, msix, max_entries)) { xfree(msix, where); return ENODEV; }
  const rc = fn.vpci_add_register(vpci, HANDLER.control_read, HANDLER.control_write, msix_control_reg(pos), 2, msix);
  if (rc) { xfree(msix, where); return rc; }
  chk(msix, VPCI_MSIX, where, 'write');              // vpci_add_register's lock let other CPUs run
  chk(vpci, VPCI, where, 'write');
  M[msix + VPCI_MSIX.max_entries] = max_entries;
  M[msix + VPCI_MSIX.pdev] = pdev;
  for (let i = 0; i < max_entries; i++) {
    M[msix_entry(msix, i) + MSIX_ENTRY.masked] = 1;
    M[msix_entry(msix, i) + MSIX_ENTRY.arch_pirq] = INVALID_PIRQ;   // vpci_msix_arch_init_entry
  }
  // register_mmio_handler whenever the list is empty (msix.c:795-796): since cleanup_msix unlinks, every time the
  // domain's last MSI-X device comes back (hvm_next_io_handler counts them; domain_crash past NR_IO_HANDLERS, not modelled).
  if (M[chk(d, DOMAIN, where) + DOMAIN.msix_tables] === NULL) M[d + DOMAIN.msix_mmio_handler]++;
  M[vpci + VPCI.msix] = msix;
  msix_list_add(d, msix, where);
  yield_point(SITE.init_msix);
  // The header already mapped the whole BAR (msix was NULL then): carve the hole now (msix.c:801-806).
  return fn.vpci_make_msix_hole(pdev);
}
