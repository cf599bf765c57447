// pci.c's add, remove, assign and deassign under the C backend for Xen HEAD, a TypeScript stepping stone like
// lib/cxen/pci.ts is for 4.17: the lab's lib/xen/head/pci.ts line for line (the same yield points, pcidevs_lock,
// d->pci_lock sections, lab lists and fault points), plus C's side of every list operation and owner change at
// the same moment, on the C mirror of the device. Compiled vpci_read finds devices on C's alldevs list and
// compiled modify_bars walks C's d->pdev_list and compares C's pdev->domain, so each must change when Xen's would.
// The d->pci_lock taken here is the lock the compiled code takes (C's &d->pci_lock is the lab's word). What calls
// into vPCI goes through the fn table (fn.vpci_assign_device...), i.e. to the compiled C; this file only keeps
// the devices. pci.c itself is compiled later (its own seam: the same CDevicesHead operations).

import { M } from '../mem/machine.js';
import { chk, xfree, NULL } from '../mem/heap.js';
import { write_lock, write_unlock } from '../sync/rwlock.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { DOMAIN, PCI_DEV, ENOMEM, ENODEV } from '../xen/types.js';
import { XEN, xen, hardware_domain, dom_io, iommu_quarantine } from '../xen/state.js';
import { pcidevs_lock, pcidevs_unlock, alloc_pdev, pci_get_pdev_by_domain } from '../xen/pci.js';
import { fn } from '../xen/fn.js';
import { list_add_domain, list_del_domain, list_del_alldevs } from '../xen/list.js';
import type { DomainPtr, PciDevPtr } from '../xen/types.js';

/** C's side of pci.c's device bookkeeping, one call per list operation or store (native/glue.c cx_pdev_*). */
export interface CDevicesHead {
  /** The C mirror of a lab device (made on first use, on C's alldevs list and its owner's list). */
  mirror(pdev: PciDevPtr): number;
  /** list_add(&pdev->domain_list, &d->pdev_list) on C's lists (d: the lab domain). */
  listAdd(c: number, d: DomainPtr): void;
  /** list_del(&pdev->domain_list). */
  listDel(c: number): void;
  /** pdev->domain = d (NULL: 0). */
  setDomain(c: number, d: DomainPtr): void;
  /** free_pdev: list_del(&pdev->alldevs_list), then (after the same yield point as the model's) xfree(pdev). */
  delAlldevs(c: number): void;
  free(c: number): void;
}

const pciLock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.pci_lock;

/** free_pdev (pci.c:436-467): list_del from alldevs_list (460), then xfree (466), C's mirror with the lab's. */
export function free_pdev(cx: CDevicesHead, pdev: PciDevPtr): void {
  const c = cx.mirror(pdev);
  list_del_alldevs(chk(pdev, PCI_DEV, 'free_pdev', 'write'), 'free_pdev');
  cx.delAlldevs(c);
  yield_point(SITE['free_pdev:after-list_del']);
  cx.free(c);
  xfree(pdev, 'free_pdev');
}

/** pci_add_device (pci.c:665-832), the unowned-device branch (781-811). */
export function pci_add_device(cx: CDevicesHead, sbdf: number): number {
  pcidevs_lock();
  let ret = 0;
  const pdev = alloc_pdev(sbdf);
  if (pdev === NULL) ret = ENOMEM;
  else if (M[chk(pdev, PCI_DEV, 'pci_add_device') + PCI_DEV.domain] === NULL) {
    const hwdom = hardware_domain();
    const c = cx.mirror(pdev);
    M[pdev + PCI_DEV.domain] = hwdom;                       // pci.c:783, before the lock
    cx.setDomain(c, hwdom);
    write_lock(pciLock(hwdom, 'pci_add_device'));
    list_add_domain(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'));
    cx.listAdd(c, hwdom);
    ret = fn.vpci_assign_device(pdev);
    if (ret) {
      list_del_domain(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'), 'pci_add_device');
      cx.listDel(c);
      write_unlock(hwdom + DOMAIN.pci_lock);
      M[chk(pdev, PCI_DEV, 'pci_add_device', 'write') + PCI_DEV.domain] = NULL;   // pci.c:796
      cx.setDomain(c, NULL);
    } else {
      write_unlock(hwdom + DOMAIN.pci_lock);
      yield_point(SITE['pci_add_device:before-iommu_add_device']);
      ret = fn.iommu_add_device(pdev);
      if (ret) {
        yield_point(SITE['pci_add_device:iommu-failed']);
        write_lock(hwdom + DOMAIN.pci_lock);                  // pci.c:804-808
        fn.vpci_deassign_device(pdev);
        list_del_domain(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'), 'pci_add_device');
        cx.listDel(c);
        write_unlock(hwdom + DOMAIN.pci_lock);
        M[chk(pdev, PCI_DEV, 'pci_add_device', 'write') + PCI_DEV.domain] = NULL;
        cx.setDomain(c, NULL);
      }
    }
  }
  if (!ret) Atomics.add(M, xen(XEN.adds), 1);
  pcidevs_unlock();
  return ret;
}

/** pci_remove_device (pci.c:834-891): vPCI goes under the owner's write lock, then free_pdev under pcidevs_lock. */
export function pci_remove_device(cx: CDevicesHead, sbdf: number): number {
  const where = 'pci_remove_device';
  pcidevs_lock();
  let ret = ENODEV;
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, where);
  if (pdev !== NULL) {
    const c = cx.mirror(pdev);
    const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
    if (d !== NULL) {
      write_lock(pciLock(d, where));                          // pci.c:875-881
      fn.vpci_deassign_device(pdev);
      list_del_domain(d, chk(pdev, PCI_DEV, where, 'write'), where);
      cx.listDel(c);
      write_unlock(d + DOMAIN.pci_lock);
    }
    yield_point(SITE['pci_remove_device:before-free']);
    fn.free_pdev(pdev);
    ret = 0;
    Atomics.add(M, xen(XEN.removes), 1);
  }
  pcidevs_unlock();
  return ret;
}

/** The IOMMU's reassign_device (vtd/iommu.c:2804-2815): off source's list, owner changed under no lock, onto target's. */
function reassign_device(cx: CDevicesHead, source: DomainPtr, target: DomainPtr, pdev: PciDevPtr): number {
  const where = 'reassign_device';
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] === target) return 0;
  const c = cx.mirror(pdev);
  write_lock(pciLock(source, where));
  list_del_domain(source, chk(pdev, PCI_DEV, where, 'write'), where);
  cx.listDel(c);
  write_unlock(source + DOMAIN.pci_lock);
  yield_point(SITE['reassign_device:between-lists']);
  M[chk(pdev, PCI_DEV, where, 'write') + PCI_DEV.domain] = target;
  cx.setDomain(c, target);
  write_lock(pciLock(target, where));
  list_add_domain(target, chk(pdev, PCI_DEV, where, 'write'));
  cx.listAdd(c, target);
  write_unlock(target + DOMAIN.pci_lock);
  yield_point(SITE['reassign_device:after-move']);
  return 0;
}

/** assign_device (pci.c:1593-1677); the caller (the domctl) holds pcidevs_lock. */
export function assign_device(cx: CDevicesHead, d: DomainPtr, sbdf: number): number {
  const where = 'assign_device';
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, where);
  if (pdev === NULL) return ENODEV;
  const owner = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] as DomainPtr;
  if (owner !== hardware_domain() && owner !== dom_io()) return -16;   // -EBUSY (device_assigned)
  yield_point(SITE.assign_device);
  write_lock(pciLock(owner, where));                          // pci.c:1616-1618
  fn.vpci_deassign_device(pdev);
  write_unlock(owner + DOMAIN.pci_lock);
  let rc = reassign_device(cx, owner, d, pdev);
  if (rc) return rc;
  write_lock(pciLock(d, where));                              // pci.c:1648-1650
  rc = fn.vpci_assign_device(pdev);
  write_unlock(d + DOMAIN.pci_lock);
  if (!rc && d === dom_io()) M[chk(pdev, PCI_DEV, where, 'write') + PCI_DEV.quarantine] = 1;  // pci.c:1672-1674
  return rc;
}

/**
 * deassign_device (pci.c:894-959): to dom_io with quarantine or a device the toolstack once put there
 * (pdev->quarantine, the lab's own state: no C mirror needed), else (or from dom_io) to the hardware domain.
 */
export function deassign_device(cx: CDevicesHead, d: DomainPtr, sbdf: number): number {
  const where = 'deassign_device';
  const pdev = fn.pci_get_pdev(d, sbdf, where);
  if (pdev === NULL) return ENODEV;
  const quarantined = iommu_quarantine() || M[chk(pdev, PCI_DEV, where) + PCI_DEV.quarantine] !== 0;   // pci.c:911
  const target = quarantined && M[pdev + PCI_DEV.domain] !== dom_io() ? dom_io() : hardware_domain();
  yield_point(SITE.deassign_device);
  write_lock(pciLock(d, where));                              // pci.c:933-935
  fn.vpci_deassign_device(pdev);
  write_unlock(d + DOMAIN.pci_lock);
  let rc = reassign_device(cx, d, target, pdev);
  if (rc) return rc;
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] === hardware_domain()) M[pdev + PCI_DEV.quarantine] = 0;  // 943-944
  write_lock(pciLock(target, where));                         // pci.c:948-951
  rc = fn.vpci_assign_device(pdev);
  write_unlock(target + DOMAIN.pci_lock);
  return rc;
}
