// xen/drivers/vpci/msix.c as of late 2021: the MSI-X capability (control register handlers), the table/PBA MMIO
// intercept and init_msix. The intercept finds the table by walking d->arch.hvm.msix_tables with no lock at all,
// then locks msix->pdev->vpci->lock: both race vpci_remove_device, which frees msix and vpci (and, before
// c14aea137e, Oct 2022, never took msix off the domain's list: every later walk reads freed memory).

import { M } from '../../mem/machine.js';
import { chk, chkMember, xzalloc_words, xfree, NULL } from '../../mem/heap.js';
import { spin_lock, spin_unlock } from '../../sync/spinlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { pci_conf_read16, pci_conf_read32, pci_conf_write16, mmio_read32, mmio_write32 } from '../../hw/index.js';
import {
  PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_TABLE,
  PCI_MSIX_PBA, PCI_MSIX_BIRMASK, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET,
  PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, PCI_MSIX_VECTOR_BITMASK,
} from '../../hw/pci_regs.js';
import {
  DOMAIN, PCI_DEV, VPCI, VCPU, VPCI_MSIX, MSIX_ENTRY, BAR, BAR_WORDS, VPCI_MSIX_TABLE, VPCI_MSIX_PBA, VPCI_MSIX_MEM_NUM,
  INVALID_PIRQ, ENOMEM, ENOENT, EEXIST, X86EMUL_OKAY, X86EMUL_RETRY, MSIX_ENTRY_WORDS, type MmioData,
} from '../types.js';
import { HANDLER } from '../handlers.js';
import { fn } from '../fn.js';
import { pci_find_cap_offset } from '../pci.js';
import { p2m_lookup, clear_identity_p2m_entry } from '../p2m.js';
import {
  vmsix_table_addr, vmsix_table_size, vmsix_table_base, VMSIX_ADDR_IN_RANGE, msix_entry, msix_words,
  msix_list_add, msix_entry_store,
} from '../vmsix.js';
import type { DomainPtr, PciDevPtr, VcpuPtr, VpciPtr, VpciMsixPtr } from '../types.js';

import { control_read } from '../msix-control.js';

export { control_read };
export { update_entry } from '../msix-control.js';

const vpciOf = (pdev: number, where: string): number => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
/** msix->pdev->vpci, re-read at every use as the C does. */
const msixVpci = (msix: number, where: string): number => vpciOf(M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.pdev], where);
const PFN_DOWN = (a: number): number => Math.floor(a / 4096);


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
  M[chk(msix, VPCI_MSIX, where, 'write') + VPCI_MSIX.masked] = new_masked ? 1 : 0;
  M[msix + VPCI_MSIX.enabled] = new_enabled ? 1 : 0;
  // pci_msi_conf_write_intercept(msix->pdev, ...) lets the write through (its host-side bookkeeping is not modelled).
  pci_conf_write16(M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf], reg, control_read(pdev, reg, msix));
}

/** msix_find: walks the domain's list of tables with no lock, reading each msix->pdev->vpci. */
export function msix_find(d: DomainPtr, addr: number): VpciMsixPtr {
  const where = 'msix_find';
  for (let msix = M[chk(d, DOMAIN, where) + DOMAIN.msix_tables] as VpciMsixPtr; msix !== NULL; msix = M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.next] as VpciMsixPtr) {
    yield_point(SITE.msix_find);
    const vpci = msixVpci(msix, where);
    for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
      const b = vpci + VPCI.bars + (M[msix + VPCI_MSIX.tables + i] & PCI_MSIX_BIRMASK) * BAR_WORDS;
      if (M[b + BAR.enabled] && VMSIX_ADDR_IN_RANGE(addr, vpci, i, where)) return msix;
    }
  }
  return NULL;
}

export function msix_accept(v: VcpuPtr, addr: number): boolean {
  return fn.msix_find(M[chk(v, VCPU, 'msix_accept') + VCPU.domain] as DomainPtr, addr) !== NULL;
}

/** Only aligned 32/64-bit accesses. */
export const access_allowed = (addr: number, len: number): boolean => (len === 4 || len === 8) && addr % len === 0;

/** &msix->entries[(addr - table address) / 16]. */
function get_entry(msix: number, addr: number, where: string): number {
  return msix_entry(msix, Math.floor((addr - vmsix_table_addr(msixVpci(msix, where), VPCI_MSIX_TABLE, where)) / PCI_MSIX_ENTRY_SIZE));
}

/** The PBA is identity-mapped host memory at L21: readl/readq straight from the device. */
function pba_read(addr: number, len: number, data: MmioData): void {
  data.lo = mmio_read32(addr);
  data.hi = len === 8 ? mmio_read32(addr + 4) : 0;
}

export function msix_read(v: VcpuPtr, addr: number, len: number, data: MmioData): number {
  const where = 'msix_read';
  const d = M[chk(v, VCPU, where) + VCPU.domain] as DomainPtr;
  const msix = fn.msix_find(d, addr);
  data.lo = data.hi = 0xffffffff;
  if (msix === NULL) return X86EMUL_RETRY;
  yield_point(SITE['msix_read:after-find']);
  if (!access_allowed(addr, len)) return X86EMUL_OKAY;
  if (VMSIX_ADDR_IN_RANGE(addr, msixVpci(msix, where), VPCI_MSIX_PBA, where)) { pba_read(addr, len, data); return X86EMUL_OKAY; }
  spin_lock(msixVpci(msix, where) + VPCI.lock);
  const entry = chkMember(get_entry(msix, addr, where), MSIX_ENTRY_WORDS, where);
  switch (addr & (PCI_MSIX_ENTRY_SIZE - 1)) {
    case PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET: data.lo = M[entry + MSIX_ENTRY.addr_lo] >>> 0; data.hi = M[entry + MSIX_ENTRY.addr_hi] >>> 0; break;
    case PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET: data.lo = M[entry + MSIX_ENTRY.addr_hi] >>> 0; data.hi = 0; break;
    case PCI_MSIX_ENTRY_DATA_OFFSET:
      data.lo = M[entry + MSIX_ENTRY.data] >>> 0;
      data.hi = M[entry + MSIX_ENTRY.masked] ? PCI_MSIX_VECTOR_BITMASK : 0;
      break;
    case PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET: data.lo = M[entry + MSIX_ENTRY.masked] ? PCI_MSIX_VECTOR_BITMASK : 0; data.hi = 0; break;
  }
  spin_unlock(msixVpci(msix, where) + VPCI.lock);
  return X86EMUL_OKAY;
}


export function msix_write(v: VcpuPtr, addr: number, len: number, data: MmioData): number {
  const where = 'msix_write';
  const d = M[chk(v, VCPU, where) + VCPU.domain] as DomainPtr;
  const msix = fn.msix_find(d, addr);
  if (msix === NULL) return X86EMUL_RETRY;
  yield_point(SITE['msix_write:after-find']);
  if (!access_allowed(addr, len)) return X86EMUL_OKAY;
  if (VMSIX_ADDR_IN_RANGE(addr, msixVpci(msix, where), VPCI_MSIX_PBA, where)) {
    // Writes to the PBA are undefined for DomUs and ignored; the hardware domain's reach the device.
    if (M[chk(d, DOMAIN, where) + DOMAIN.is_hardware_domain]) { mmio_write32(addr, data.lo); if (len === 8) mmio_write32(addr + 4, data.hi); }
    return X86EMUL_OKAY;
  }
  spin_lock(msixVpci(msix, where) + VPCI.lock);
  const entry = get_entry(msix, addr, where);
  msix_entry_store(msix, entry, addr, len, data);
  spin_unlock(msixVpci(msix, where) + VPCI.lock);
  return X86EMUL_OKAY;
}

/** vpci_make_msix_hole: no p2m mapping may cover the table or PBA, so that accesses trap. */
export function vpci_make_msix_hole(pdev: PciDevPtr): number {
  const where = 'vpci_make_msix_hole';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  const vpci = vpciOf(pdev, where);
  if (M[vpci + VPCI.msix] === NULL) return 0;
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
    const a = vmsix_table_addr(vpci, i, where);
    for (let f = PFN_DOWN(a), end = PFN_DOWN(a + vmsix_table_size(vpci, i, where) - 1); f <= end; f++) {
      const mfn = p2m_lookup(d, f);
      if (mfn < 0) continue;                          // p2m_invalid / p2m_mmio_dm
      if (mfn !== f) return EEXIST;                   // gprintk: existing mapping clobbers MSIX MMIO area
      clear_identity_p2m_entry(d, f);
    }
  }
  return 0;
}

/** init_msix (REGISTER_VPCI_INIT, VPCI_PRIORITY_HIGH: before init_bars at L21). */
export function init_msix(pdev: PciDevPtr): number {
  const where = 'init_msix';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  const sbdf = M[pdev + PCI_DEV.sbdf];
  const pos = pci_find_cap_offset(sbdf, PCI_CAP_ID_MSIX);
  if (!pos) return 0;
  const max_entries = (pci_conf_read16(sbdf, pos + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1;
  const msix = xzalloc_words(VPCI_MSIX, msix_words(max_entries));
  if (msix === NULL) return ENOMEM;
  const vpci = vpciOf(pdev, where) as VpciPtr;
  const rc = fn.vpci_add_register(vpci, HANDLER.control_read, HANDLER.control_write, pos + PCI_MSIX_FLAGS, 2, msix);
  if (rc) { xfree(msix, where); return rc; }
  chk(msix, VPCI_MSIX, where, 'write');       // vpci_add_register's lock let other CPUs run
  chk(vpci, VPCI, where, 'write');
  M[msix + VPCI_MSIX.max_entries] = max_entries;
  M[msix + VPCI_MSIX.pdev] = pdev;
  M[msix + VPCI_MSIX.tables + VPCI_MSIX_TABLE] = pci_conf_read32(sbdf, pos + PCI_MSIX_TABLE);
  M[msix + VPCI_MSIX.tables + VPCI_MSIX_PBA] = pci_conf_read32(sbdf, pos + PCI_MSIX_PBA);
  for (let i = 0; i < max_entries; i++) {
    M[msix_entry(msix, i) + MSIX_ENTRY.masked] = 1;
    M[msix_entry(msix, i) + MSIX_ENTRY.arch_pirq] = INVALID_PIRQ;   // vpci_msix_arch_init_entry
  }
  if (M[chk(d, DOMAIN, where) + DOMAIN.msix_tables] === NULL) M[d + DOMAIN.msix_mmio_handler] = 1; // register_mmio_handler
  M[vpci + VPCI.msix] = msix;
  msix_list_add(d, msix, where);
  yield_point(SITE.init_msix);
  return 0;
}
