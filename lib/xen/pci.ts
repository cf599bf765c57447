// xen/drivers/passthrough/pci.c as of late 2021 (with the v4 series' vPCI assign/deassign hooks): device add and
// remove, assignment, and the BAR sizing helper. pcidevs_lock is the global recursive lock Xen takes here.

import { M } from '../mem/machine.js';
import { chk, xzalloc, xfree, NULL } from '../mem/heap.js';
import { spin_lock_init, spin_lock_recursive, spin_unlock_recursive } from '../sync/spinlock.js';
import { yield_point, backoff_point } from '../sched/mode.js';
import { S } from '../trace/sites.js';
import { pci_conf_read32, pci_conf_write32, barFrames as hwBarFrames } from '../hw/index.js';
import { PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_ROM_ADDRESS_MASK, PCI_BASE_ADDRESS_MEM_MASK } from '../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, ENOMEM, ENODEV, ERESTART, EBUSY } from './types.js';
import { XEN, xen, CLASS, pcidevs_lock_addr, hardware_domain, chance, takeForced } from './state.js';
import { X } from './ops.js';
import { vpci_add_handlers } from './vpci.js';
import { unmap_mmio_regions } from './p2m.js';
import { NR_BARS } from './types.js';

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

/** pci_get_pdev_by_domain (L21): walks alldevs_list — from vpci_read/vpci_write with no lock at all (R2). */
export function pci_get_pdev_by_domain(d: number, sbdf: number, where: string): number {
  for (let p = M[xen(XEN.alldevs_list)]; p !== NULL; p = M[p + PCI_DEV.alldevs_next]) {
    chk(p, PCI_DEV, where);
    if (M[p + PCI_DEV.sbdf] === sbdf && (d === NULL || M[p + PCI_DEV.domain] === d)) return p;
  }
  return NULL;
}

/** for_each_pdev(d, pdev) lookup (HEAD's pci_get_pdev(d, sbdf)): walks only d->pdev_list. */
export function pci_get_pdev_in_domain(d: number, sbdf: number, where: string): number {
  for (let p = M[chk(d, DOMAIN, where) + DOMAIN.pdev_list]; p !== NULL; p = M[p + PCI_DEV.domain_next]) {
    if (M[chk(p, PCI_DEV, where) + PCI_DEV.sbdf] === sbdf) return p;
  }
  return NULL;
}

/** alloc_pdev: find or create the pci_dev on alldevs_list (caller holds pcidevs_lock). */
function alloc_pdev(sbdf: number): number {
  const found = pci_get_pdev_by_domain(NULL, sbdf, 'alloc_pdev');
  if (found !== NULL) return found;
  const pdev = xzalloc(PCI_DEV);
  if (pdev === NULL) return NULL;
  M[pdev + PCI_DEV.sbdf] = sbdf;
  spin_lock_init(pdev + PCI_DEV.vpci_lock, CLASS.pdev_vpci_lock);
  M[pdev + PCI_DEV.alldevs_next] = M[xen(XEN.alldevs_list)];
  M[xen(XEN.alldevs_list)] = pdev;
  return pdev;
}

/** free_pdev: unlink from alldevs_list and free (caller holds pcidevs_lock). */
function free_pdev(pdev: number): void {
  for (let link = xen(XEN.alldevs_list); M[link] !== NULL; link = M[link] + PCI_DEV.alldevs_next) {
    if (M[link] === pdev) { M[link] = M[pdev + PCI_DEV.alldevs_next]; break; }
  }
  xfree(pdev, 'free_pdev');
}

export function list_add_pdev(d: number, pdev: number): void {
  M[pdev + PCI_DEV.domain_next] = M[chk(d, DOMAIN, 'list_add') + DOMAIN.pdev_list];
  M[d + DOMAIN.pdev_list] = pdev;
  M[pdev + PCI_DEV.domain] = d;
}

export function list_del_pdev(pdev: number): void {
  const d = M[chk(pdev, PCI_DEV, 'list_del') + PCI_DEV.domain];
  if (d === NULL) return;
  for (let link = chk(d, DOMAIN, 'list_del') + DOMAIN.pdev_list; M[link] !== NULL; link = M[link] + PCI_DEV.domain_next) {
    if (M[link] === pdev) { M[link] = M[pdev + PCI_DEV.domain_next]; break; }
  }
  M[pdev + PCI_DEV.domain_next] = NULL;
  M[pdev + PCI_DEV.domain] = NULL;
}

/** iommu_add_device, with fault injection: the failure that opens the seed's crash path 1. */
export function iommu_add_device(_pdev: number): number {
  if (takeForced(XEN.iommu_fail_next) || chance(M[xen(XEN.iommu_fail_permille)])) return ENODEV;
  return 0;
}

/** Retire vPCI state where no continuation is possible: retry in place (what a -ERESTART strategy must do here). */
function vpci_remove_device_sync(pdev: number): void {
  while (X.vpci_remove_device(pdev) === ERESTART) backoff_point(S['vpci_process_pending:restart']);
}

/** pci_add_device (pci.c L21 726-871), the unowned-device branch. */
export function pci_add_device(sbdf: number): number {
  pcidevs_lock();
  let ret = 0;
  const pdev = alloc_pdev(sbdf);
  if (pdev === NULL) ret = ENOMEM;
  else if (M[pdev + PCI_DEV.domain] === NULL) {
    const hwdom = hardware_domain();
    X.pdev_list_write_enter(hwdom);
    list_add_pdev(hwdom, pdev);              // before vPCI setup: modify_bars walks this list
    ret = vpci_add_handlers(pdev);
    if (ret) list_del_pdev(pdev);
    X.pdev_list_write_exit(hwdom);
    if (!ret) {
      yield_point(S['pci_add_device:before-iommu_add_device']);
      ret = iommu_add_device(pdev);
      if (ret) {
        yield_point(S['pci_add_device:iommu-failed']);
        X.pdev_list_write_enter(hwdom);
        vpci_remove_device_sync(pdev);
        list_del_pdev(pdev);
        X.pdev_list_write_exit(hwdom);
      }
    }
  }
  if (!ret) Atomics.add(M, xen(XEN.adds), 1);
  pcidevs_unlock();
  return ret;
}

/** pci_remove_device (pci.c L21 873-904): nothing waits for other vCPUs' pending work or in-flight accesses. */
export function pci_remove_device(sbdf: number): number {
  pcidevs_lock();
  let ret = ENODEV;
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, 'pci_remove_device');
  if (pdev !== NULL) {
    const d = M[pdev + PCI_DEV.domain];
    if (d !== NULL) X.pdev_list_write_enter(d);
    ret = d !== NULL ? X.vpci_remove_device(pdev) : 0;
    if (ret === 0) {
      yield_point(S['pci_remove_device:after-vpci']);
      list_del_pdev(pdev);                   // pci_cleanup_msi, iommu_remove_device: not modelled
      if (d !== NULL) X.pdev_list_write_exit(d);
      yield_point(S['pci_remove_device:before-free']);
      free_pdev(pdev);
      Atomics.add(M, xen(XEN.removes), 1);
    } else if (d !== NULL) {
      X.pdev_list_write_exit(d);
    }
  }
  pcidevs_unlock();
  return ret;
}

/**
 * Tear down d's MMIO mappings of the device's BARs, as the toolstack's memory_mapping removal does, after vPCI
 * state (and with it any pending work the strategy cancels) is gone: frames come from the hardware registers.
 */
function unmap_device_bars(d: number, sbdf: number): void {
  for (let i = 0; i < NR_BARS; i++) {
    const f = hwBarFrames(sbdf, i);
    if (!f) continue;
    for (let g = f.start; g <= f.end;) { const rc = unmap_mmio_regions(d, g, f.end - g + 1, g); g = rc > 0 ? g + rc : f.end + 1; }
  }
}

/** assign_device (L21 1473-1519 + v4 vPCI hooks): vPCI leaves the old owner, the IOMMU moves it, vPCI joins d. */
export function assign_device(d: number, sbdf: number): number {
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, 'assign_device');
  const hwdom = hardware_domain();
  if (pdev === NULL) return ENODEV;
  if (M[pdev + PCI_DEV.domain] !== hwdom) return EBUSY;
  yield_point(S.assign_device);
  X.pdev_list_write_enter(hwdom);
  const rc = X.vpci_remove_device(pdev);     // vpci_deassign_device(pdev->domain, pdev)
  if (rc === 0) list_del_pdev(pdev);
  X.pdev_list_write_exit(hwdom);
  if (rc) return rc;
  X.pdev_list_write_enter(d);
  list_add_pdev(d, pdev);                    // iommu assign: not modelled beyond ownership
  const ret = vpci_add_handlers(pdev);       // vpci_assign_device(d, pdev)
  X.pdev_list_write_exit(d);
  return ret;
}

/** deassign_device (L21 906-956 + v4 vPCI hooks): back to the hardware domain. */
export function deassign_device(d: number, sbdf: number): number {
  const pdev = pci_get_pdev_by_domain(d, sbdf, 'deassign_device');
  if (pdev === NULL) return ENODEV;
  yield_point(S.deassign_device);
  X.pdev_list_write_enter(d);
  const rc = X.vpci_remove_device(pdev);     // vpci_deassign_device(d, pdev)
  if (rc === 0) {
    unmap_device_bars(d, sbdf);
    list_del_pdev(pdev);
  }
  X.pdev_list_write_exit(d);
  if (rc) return rc;
  const hwdom = hardware_domain();
  X.pdev_list_write_enter(hwdom);
  list_add_pdev(hwdom, pdev);
  const ret = vpci_add_handlers(pdev);
  X.pdev_list_write_exit(hwdom);
  return ret;
}
