// xen/drivers/vpci/msix.c at HEAD (c447b7308b), the MSI-X table/PBA MMIO trap (msix.c:157-593). Since 4f78438b45
// every handler takes v->domain->pci_lock for reading, then msix->pdev->vpci->lock: the domain's list of tables
// (d->arch.hvm.msix_tables) and each pdev->vpci change only under that lock held for writing (cleanup_msix runs
// inside vpci_deassign_device), which is what the L21 walk with no lock lacked. Addresses the guest uses are the
// BARs' guest addresses (vmsix_table_addr); the pages Xen itself maps for the adjacent accesses are host addresses
// (vmsix_table_host_addr, get_table). Line numbers below are msix.c's at c447b7308b. The capability side (control
// register, init_msix, cleanup_msix, the p2m hole) is msix-cap.ts.

import { M } from '../../mem/machine.js';
import { chk, chkMember, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_lock, spin_unlock, spin_is_locked } from '../../sync/spinlock.js';
import { read_lock, read_unlock } from '../../sync/rwlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { mmio_read32, mmio_write32 } from '../../hw/index.js';
import {
  PCI_MSIX_BIRMASK, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET,
  PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, PCI_MSIX_VECTOR_BITMASK,
} from '../../hw/pci_regs.js';
import {
  DOMAIN, PCI_DEV, VPCI, VCPU, VPCI_MSIX, MSIX_ENTRY, MSIX_ENTRY_WORDS, BAR, BAR_WORDS, VPCI_MSIX_TABLE, VPCI_MSIX_PBA, VPCI_MSIX_MEM_NUM,
  X86EMUL_OKAY, X86EMUL_RETRY, type MmioData,
} from '../types.js';
import { fn } from '../fn.js';
import { ASSERT_PDEV_LIST_IS_READ_LOCKED } from './vmsi.js';
import { vmsix_table_addr, vmsix_table_size, VMSIX_ADDR_IN_RANGE, VMSIX_ADDR_SAME_PAGE, msix_entry, msix_entry_store } from '../vmsix.js';
import type { DomainPtr, VcpuPtr, VpciMsixPtr } from '../types.js';

/** HEAD's vmsix_table_addr and friends use bar->guest_addr; the _host_ variants bar->addr (private.h:97-120). */
const GUEST = BAR.guest_addr_lo, HOST = BAR.addr_lo;
/** vpci.h:126-129: the four pages of msix->table[]. */
export const VPCI_MSIX_TBL_HEAD = 0, VPCI_MSIX_TBL_TAIL = 1, VPCI_MSIX_PBA_HEAD = 2, VPCI_MSIX_PBA_TAIL = 3;
const PFN_DOWN = (a: number): number => Math.floor(a / 4096);

/** msix->pdev->vpci, re-read at every use as the C does. */
const msixVpci = (msix: number, where: string): number =>
  chk(M[chk(M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.pdev], PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);

/** msix_find (msix.c:157-175): the table or PBA page of an enabled BAR that addr falls on. */
export function msix_find(d: DomainPtr, addr: number): VpciMsixPtr {
  const where = 'msix_find';
  ASSERT_PDEV_LIST_IS_READ_LOCKED(d, where);
  for (let msix = M[chk(d, DOMAIN, where) + DOMAIN.msix_tables] as VpciMsixPtr; msix !== NULL; msix = M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.next] as VpciMsixPtr) {
    yield_point(SITE.msix_find);
    const vpci = msixVpci(msix, where);
    for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
      const b = vpci + VPCI.bars + (M[msix + VPCI_MSIX.tables + i] & PCI_MSIX_BIRMASK) * BAR_WORDS;
      if (M[b + BAR.enabled] && VMSIX_ADDR_SAME_PAGE(addr, vpci, i, where, GUEST)) return msix;
    }
  }
  return NULL;
}

/** msix_accept (msix.c:177-186). */
export function msix_accept(v: VcpuPtr, addr: number): boolean {
  const d = M[chk(v, VCPU, 'msix_accept') + VCPU.domain] as DomainPtr;
  read_lock(chk(d, DOMAIN, 'msix_accept') + DOMAIN.pci_lock);
  const rc = fn.msix_find(d, addr) !== NULL;
  read_unlock(d + DOMAIN.pci_lock);
  return rc;
}

/** access_allowed (msix.c:188-199): aligned 32/64-bit accesses only. */
const access_allowed = (addr: number, len: number): boolean => (len === 4 || len === 8) && addr % len === 0;

/** get_entry (msix.c:201-207). */
function get_entry(msix: number, addr: number, where: string): number {
  const start = vmsix_table_addr(msixVpci(msix, where), VPCI_MSIX_TABLE, where, GUEST);
  return msix_entry(msix, Math.floor((addr - start) / PCI_MSIX_ENTRY_SIZE));
}

/**
 * get_table (msix.c:209-243): the page Xen ioremap()s to reach the device's own registers sharing a page with the
 * table or PBA. The model keeps the mapped host frame number in msix->table[slot] (0 = NULL; the lab's BARs never
 * sit at frame 0).
 */
function get_table(vpci: number, slot: number, where: string): number {
  const msix = chk(M[vpci + VPCI.msix], VPCI_MSIX, where);
  ASSERT(() => spin_is_locked(vpci + VPCI.lock), where, 'spin_is_locked(&vpci->lock)');
  if (M[msix + VPCI_MSIX.table + slot]) return M[msix + VPCI_MSIX.table + slot];
  const nr = slot < VPCI_MSIX_PBA_HEAD ? VPCI_MSIX_TABLE : VPCI_MSIX_PBA;
  const tail = slot === VPCI_MSIX_TBL_TAIL || slot === VPCI_MSIX_PBA_TAIL ? vmsix_table_size(vpci, nr, where) : 0;
  M[msix + VPCI_MSIX.table + slot] = PFN_DOWN(tail + vmsix_table_addr(vpci, nr, where, HOST));
  return M[msix + VPCI_MSIX.table + slot];
}

/** get_slot (msix.c:245-262). */
function get_slot(vpci: number, addr: number, where: string): number {
  const pfn = PFN_DOWN(addr);
  for (const [nr, head] of [[VPCI_MSIX_TABLE, VPCI_MSIX_TBL_HEAD], [VPCI_MSIX_PBA, VPCI_MSIX_PBA_HEAD]] as const) {
    const a = vmsix_table_addr(vpci, nr, where, GUEST);
    if (pfn === PFN_DOWN(a)) return head;
    if (pfn === PFN_DOWN(a + vmsix_table_size(vpci, nr, where) - 1)) return head + 1;
  }
  ASSERT(false, where, 'unreachable: address on no MSI-X page');
  return -1;
}

/** adjacent_handle (msix.c:264-279): the PBA, or a page the table or PBA shares with other registers. */
function adjacent_handle(msix: number, addr: number, where: string): boolean {
  const vpci = msixVpci(msix, where);
  if (VMSIX_ADDR_IN_RANGE(addr, vpci, VPCI_MSIX_PBA, where, GUEST)) return true;
  if (VMSIX_ADDR_IN_RANGE(addr, vpci, VPCI_MSIX_TABLE, where, GUEST)) return false;
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) if (VMSIX_ADDR_SAME_PAGE(addr, vpci, i, where, GUEST)) return true;
  return false;
}

/** read_mmio / write_mmio of `len` bytes at a mapped page; a byte goes through its dword (device memory is dword-atomic). */
const byteShift = (a: number): number => (a % 4) * 8;
function read_mmio(a: number, len: number, data: MmioData): void {
  if (len === 1) { data.lo = (mmio_read32(a - (a % 4)) >>> byteShift(a)) & 0xff; data.hi = 0; return; }
  data.lo = mmio_read32(a);
  data.hi = len === 8 ? mmio_read32(a + 4) : 0;
}
function write_mmio(a: number, data: MmioData, len: number): void {
  if (len === 1) {
    const w = a - (a % 4), s = byteShift(a);
    mmio_write32(w, ((mmio_read32(w) & ~(0xff << s)) | ((data.lo & 0xff) << s)) >>> 0);
    return;
  }
  mmio_write32(a, data.lo);
  if (len === 8) mmio_write32(a + 4, data.hi);
}

const byteOf = (x: MmioData, i: number): number => ((i < 4 ? x.lo : x.hi) >>> (8 * (i % 4))) & 0xff;
function setByte(x: MmioData, i: number, b: number): void {
  const s = 8 * (i % 4), v = (((i < 4 ? x.lo : x.hi) & ~(0xff << s)) | (b << s)) >>> 0;
  if (i < 4) x.lo = v; else x.hi = v;
}

/** adjacent_read / adjacent_write (msix.c:281-349, 419-477) share everything up to the access itself. */
function adjacent(d: number, msix: number, addr: number, len: number, data: MmioData, write: boolean): number {
  const where = write ? 'adjacent_write' : 'adjacent_read';
  const vpci = msixVpci(msix, where);
  if (!write) data.lo = data.hi = 0xffffffff;
  if (!adjacent_handle(msix, addr + len - 1, where)) return X86EMUL_OKAY;
  // Writes to the PBA are undefined for DomUs and ignored (msix.c:435-438).
  if (VMSIX_ADDR_IN_RANGE(addr, vpci, VPCI_MSIX_PBA, where, GUEST) &&
      (!access_allowed(addr, len) || (write && !M[chk(d, DOMAIN, where) + DOMAIN.is_hardware_domain]))) return X86EMUL_OKAY;
  const slot = get_slot(vpci, addr, where);
  if (slot < 0 || slot >= 4) return X86EMUL_OKAY;
  if (addr % len) {                                   // msix.c:303-332, 444-460: split into bytes
    const part = { lo: 0, hi: 0 };
    for (let i = 0; i < len; i++) {
      part.lo = write ? byteOf(data, i) : 0xffffffff;
      const rc = adjacent(d, msix, addr + i, 1, part, write);
      if (rc !== X86EMUL_OKAY) return rc;
      if (!write) setByte(data, i, part.lo & 0xff);
    }
    return X86EMUL_OKAY;
  }
  spin_lock(vpci + VPCI.lock);
  const page = get_table(chk(vpci, VPCI, where), slot, where);
  const a = page * 4096 + (addr % 4096);
  if (write) write_mmio(a, data, len); else read_mmio(a, len, data);
  spin_unlock(vpci + VPCI.lock);
  return X86EMUL_OKAY;
}

/** msix_read (msix.c:351-417). */
export function msix_read(v: VcpuPtr, addr: number, len: number, data: MmioData): number {
  const where = 'msix_read';
  const d = M[chk(v, VCPU, where) + VCPU.domain] as DomainPtr;
  data.lo = data.hi = 0xffffffff;
  read_lock(chk(d, DOMAIN, where) + DOMAIN.pci_lock);
  const msix = fn.msix_find(d, addr);
  if (msix === NULL) { read_unlock(d + DOMAIN.pci_lock); return X86EMUL_RETRY; }
  yield_point(SITE['msix_read:after-find']);
  if (adjacent_handle(msix, addr, where)) {
    const rc = adjacent(d, msix, addr, len, data, false);
    read_unlock(d + DOMAIN.pci_lock);
    return rc;
  }
  if (!access_allowed(addr, len)) { read_unlock(d + DOMAIN.pci_lock); return X86EMUL_OKAY; }
  spin_lock(msixVpci(msix, where) + VPCI.lock);
  const entry = chkMember(get_entry(msix, addr, where), MSIX_ENTRY_WORDS, where);
  switch (addr & (PCI_MSIX_ENTRY_SIZE - 1)) {
    case PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET: data.lo = M[entry + MSIX_ENTRY.addr_lo] >>> 0; data.hi = M[entry + MSIX_ENTRY.addr_hi] >>> 0; break;
    case PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET: data.lo = M[entry + MSIX_ENTRY.addr_hi] >>> 0; data.hi = 0; break;
    case PCI_MSIX_ENTRY_DATA_OFFSET:
      data.lo = M[entry + MSIX_ENTRY.data] >>> 0;
      data.hi = len === 8 && M[entry + MSIX_ENTRY.masked] ? PCI_MSIX_VECTOR_BITMASK : 0;
      break;
    case PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET: data.lo = M[entry + MSIX_ENTRY.masked] ? PCI_MSIX_VECTOR_BITMASK : 0; data.hi = 0; break;
  }
  spin_unlock(msixVpci(msix, where) + VPCI.lock);
  read_unlock(d + DOMAIN.pci_lock);
  return X86EMUL_OKAY;
}


/** msix_write (msix.c:479-587). */
export function msix_write(v: VcpuPtr, addr: number, len: number, data: MmioData): number {
  const where = 'msix_write';
  const d = M[chk(v, VCPU, where) + VCPU.domain] as DomainPtr;
  read_lock(chk(d, DOMAIN, where) + DOMAIN.pci_lock);
  const msix = fn.msix_find(d, addr);
  if (msix === NULL) { read_unlock(d + DOMAIN.pci_lock); return X86EMUL_RETRY; }
  yield_point(SITE['msix_write:after-find']);
  if (adjacent_handle(msix, addr, where)) {
    const rc = adjacent(d, msix, addr, len, data, true);
    read_unlock(d + DOMAIN.pci_lock);
    return rc;
  }
  if (!access_allowed(addr, len)) { read_unlock(d + DOMAIN.pci_lock); return X86EMUL_OKAY; }
  spin_lock(msixVpci(msix, where) + VPCI.lock);
  const entry = get_entry(msix, addr, where);
  msix_entry_store(msix, entry, addr, len, data);
  spin_unlock(msixVpci(msix, where) + VPCI.lock);
  read_unlock(d + DOMAIN.pci_lock);
  return X86EMUL_OKAY;
}
