// xen/drivers/passthrough/pci.c, the parts both generations share: pcidevs_lock, BAR sizing, the device lists
// (alldevs_list and d->pdev_list) and their walks. The device lifecycle (add, remove, assign, deassign) is each
// generation's own: lib/xen/l21/pci.ts, lib/xen/head/pci.ts.

import { M } from '../mem/machine.js';
import { chk, xzalloc, xfree, NULL } from '../mem/heap.js';
import { spin_lock_init, spin_lock_recursive, spin_unlock_recursive } from '../sync/spinlock.js';
import { pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write32, barFrames as hwBarFrames } from '../hw/index.js';
import {
  PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_ROM_ADDRESS_MASK, PCI_BASE_ADDRESS_MEM_MASK, PCI_STATUS,
  PCI_STATUS_CAP_LIST, PCI_CAPABILITY_LIST, PCI_CAP_LIST_ID, PCI_CAP_LIST_NEXT,
} from '../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, NR_BARS, ENODEV } from './types.js';
import { XEN, xen, CLASS, pcidevs_lock_addr, dom_xen } from './state.js';
import { write_lock, write_unlock } from '../sync/rwlock.js';
import { fault_point } from './fault.js';
import { unmap_mmio_regions, p2m_mapped } from './p2m.js';
import { list_next, list_add_alldevs, list_del_alldevs, list_add_domain, list_del_domain } from './list.js';
import type { PciDevPtr } from './types.js';

export function pcidevs_lock(): void { spin_lock_recursive(pcidevs_lock_addr()); }
export function pcidevs_unlock(): void { spin_unlock_recursive(pcidevs_lock_addr()); }

export const PCI_BAR_VF = 1, PCI_BAR_LAST = 2, PCI_BAR_ROM = 4;

/** pci_size_mem_bar (pci.c L21 679-724): write all-ones, read back, restore; 64-bit BARs use two slots. */
export function pci_size_mem_bar(sbdf: number, pos: number, flags: number): { slots: number; addr: number; size: number } {
  const bar32 = pci_conf_read32(sbdf, pos) >>> 0;
  const rom = (flags & PCI_BAR_ROM) !== 0;
  const is64 = !rom && (bar32 & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
  const mask = BigInt(rom ? PCI_ROM_ADDRESS_MASK >>> 0 : PCI_BASE_ADDRESS_MEM_MASK >>> 0);
  let hi = 0;
  pci_conf_write32(sbdf, pos, 0xffffffff);
  if (is64) {
    if (flags & PCI_BAR_LAST) return { slots: 1, addr: 0, size: 0 }; // "device has a 64-bit BAR in the last slot"
    hi = pci_conf_read32(sbdf, pos + 4) >>> 0;
    pci_conf_write32(sbdf, pos + 4, 0xffffffff);
  }
  let size = BigInt(pci_conf_read32(sbdf, pos) >>> 0) & mask;
  if (is64) {
    size |= BigInt(pci_conf_read32(sbdf, pos + 4) >>> 0) << 32n;
    pci_conf_write32(sbdf, pos + 4, hi);
  } else if (size) {
    size |= 0xffffffffn << 32n;
  }
  pci_conf_write32(sbdf, pos, bar32);
  size = BigInt.asUintN(64, -size);
  const addr = (BigInt(bar32) & mask) | (BigInt(hi) << 32n);
  return { slots: is64 ? 2 : 1, addr: Number(addr), size: Number(size) };
}

/** pci_find_cap_offset (drivers/pci/pci.c L21): walk the capability list, at most 48 hops; 0 when absent. */
export function pci_find_cap_offset(sbdf: number, cap: number): number {
  if (!(pci_conf_read16(sbdf, PCI_STATUS) & PCI_STATUS_CAP_LIST)) return 0;
  let pos = PCI_CAPABILITY_LIST;
  for (let max_cap = 48; max_cap-- > 0;) {
    pos = pci_conf_read8(sbdf, pos);
    if (pos < 0x40) break;
    pos &= ~3;
    const id = pci_conf_read8(sbdf, pos + PCI_CAP_LIST_ID);
    if (id === 0xff) break;
    if (id === cap) return pos;
    pos += PCI_CAP_LIST_NEXT;
  }
  return 0;
}

/**
 * pci_get_pdev_by_domain (L21 pci.c:611-634) for callers holding pcidevs_lock, under which nothing changes
 * alldevs_list: no yield point in the walk. The unlocked lookup of L21's vpci_read/vpci_write (R2), which yields at
 * each node, is lib/xen/l21/pci.ts's.
 */
export function pci_get_pdev_by_domain(d: number, sbdf: number, where: string): PciDevPtr {
  for (let p = M[xen(XEN.alldevs_list)]; p !== NULL; p = list_next(p, PCI_DEV.alldevs_next, where)) {
    chk(p, PCI_DEV, where);
    if (M[p + PCI_DEV.sbdf] === sbdf && (d === NULL || M[p + PCI_DEV.domain] === d)) return p as PciDevPtr;
  }
  return NULL;
}

/** for_each_pdev(d, pdev) lookup (HEAD's pci_get_pdev(d, sbdf)): walks only d->pdev_list. */
export function pci_get_pdev_in_domain(d: number, sbdf: number, where: string): PciDevPtr {
  for (let p = M[chk(d, DOMAIN, where) + DOMAIN.pdev_list]; p !== NULL; p = list_next(p, PCI_DEV.domain_next, where)) {
    if (M[chk(p, PCI_DEV, where) + PCI_DEV.sbdf] === sbdf) return p as PciDevPtr;
  }
  return NULL;
}

/** alloc_pdev: find or create the pci_dev on alldevs_list (caller holds pcidevs_lock). */
export function alloc_pdev(sbdf: number): PciDevPtr {
  const found = pci_get_pdev_by_domain(NULL, sbdf, 'alloc_pdev');
  if (found !== NULL) return found;
  const pdev = xzalloc(PCI_DEV);
  if (pdev === NULL) return NULL;
  M[pdev + PCI_DEV.sbdf] = sbdf;
  spin_lock_init(pdev + PCI_DEV.vpci_lock, CLASS.pdev_vpci_lock);
  list_add_alldevs(pdev);
  return pdev;
}

/** free_pdev (L21 pci.c:417-452): list_del from alldevs_list leaves LIST_POISON1, then xfree. */
export function free_pdev(pdev: PciDevPtr): void {
  list_del_alldevs(chk(pdev, PCI_DEV, 'free_pdev', 'write'), 'free_pdev');
  xfree(pdev, 'free_pdev');
}

/**
 * pci_hide_device / _pci_hide_device (HEAD pci.c:468-500; the same at L21 without the lock): boot-time, the device
 * becomes dom_xen's, on dom_xen's pdev_list under dom_xen's pci_lock.
 */
export function pci_hide_device(sbdf: number): number {
  pcidevs_lock();
  const pdev = alloc_pdev(sbdf);
  if (pdev !== NULL && M[chk(pdev, PCI_DEV, 'pci_hide_device') + PCI_DEV.domain] === NULL) {
    const dx = dom_xen();
    M[pdev + PCI_DEV.domain] = dx;
    write_lock(dx + DOMAIN.pci_lock);
    list_add_domain(dx, chk(pdev, PCI_DEV, 'pci_hide_device', 'write'));
    write_unlock(dx + DOMAIN.pci_lock);
  }
  pcidevs_unlock();
  return pdev;
}

/** pdev->domain = d; list_add(&pdev->domain_list, &d->pdev_list). */
export function list_add_pdev(d: number, pdev: number): void {
  list_add_domain(d, pdev);
  M[pdev + PCI_DEV.domain] = d;
}

/**
 * list_del(&pdev->domain_list) from its owner's list, leaving LIST_POISON1. pdev->domain stays: L21 clears it only
 * where pci_add_device fails (pci.c:839, 847), which its callers do themselves.
 */
export function list_del_pdev(pdev: number): void {
  const d = M[chk(pdev, PCI_DEV, 'list_del') + PCI_DEV.domain];
  if (d !== NULL) list_del_domain(d, pdev, 'list_del');
}

/**
 * Tear down d's MMIO mappings of the device's BARs, as the toolstack's memory_mapping removal does, after vPCI
 * state (and with it any pending work the strategy cancels) is gone: frames come from the hardware registers.
 */
export function unmap_device_bars(d: number, sbdf: number): void {
  for (let i = 0; i < NR_BARS; i++) {
    const f = hwBarFrames(sbdf, i);
    if (!f) continue;
    for (let g = f.start; g <= f.end;) { const rc = unmap_mmio_regions(d, g, f.end - g + 1, g); g = rc > 0 ? g + rc : f.end + 1; }
  }
}

/**
 * The toolstack's XEN_DOMCTL_memory_mapping removal for a device it took from d: unmap every frame of d's p2m that
 * maps one of the device's BAR frames (from the hardware registers), wherever the guest had placed the BAR.
 */
export function unmap_device_frames(d: number, sbdf: number): void {
  const mfns = new Set<number>();
  for (let i = 0; i < NR_BARS; i++) {
    const f = hwBarFrames(sbdf, i);
    if (f) for (let g = f.start; g <= f.end; g++) mfns.add(g);
  }
  for (const [gfn, mfn] of p2m_mapped(M[chk(d, DOMAIN, 'memory_mapping') + DOMAIN.p2m_index])) {
    if (!mfns.has(mfn)) continue;
    while (unmap_mmio_regions(d, gfn, 1, mfn) > 0) { /* partial progress: again */ }
  }
}

/** iommu_add_device, with fault injection: the failure that opens the seed's crash path 1. */
export function iommu_add_device(_pdev: number): number {
  if (fault_point('iommu')) return ENODEV;
  return 0;
}

