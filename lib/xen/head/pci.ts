// xen/drivers/passthrough/pci.c at HEAD (c447b7308b), model document C.2: each section under the lock HEAD takes
// for it. pcidevs_lock covers alldevs_list; d->pci_lock (write) covers d->pdev_list and pdev->vpci; the IOMMU code
// moves a pdev between domain lists in two sections and sets pdev->domain between them, under neither
// (vtd/iommu.c:2804-2815, amd 488-496). Line numbers below are pci.c's unless stated.

import { M } from '../../mem/machine.js';
import { chk, xfree, NULL } from '../../mem/heap.js';
import { write_lock, write_unlock } from '../../sync/rwlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { DOMAIN, PCI_DEV, ENOMEM, ENODEV } from '../types.js';
import { XEN, xen, hardware_domain, dom_io, iommu_quarantine } from '../state.js';
import { pcidevs_lock, pcidevs_unlock, alloc_pdev, pci_get_pdev_by_domain } from '../pci.js';
import { fn } from '../fn.js';
import { list_next, list_add_domain, list_del_domain, list_del_alldevs } from '../list.js';
import type { DomainPtr, PciDevPtr } from '../types.js';

const pciLock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.pci_lock;
const is_hardware_domain = (d: number): boolean => M[chk(d, DOMAIN, 'is_hardware_domain') + DOMAIN.is_hardware_domain] !== 0;

/**
 * pci_get_pdev (pci.c:548-578): for NULL or the hardware domain it walks the segment's alldevs_list, which changes
 * under pcidevs_lock only, while vpci_read/vpci_write call it holding just d->pci_lock (vpci.c:495-500, 619-624).
 * A freed node is read here, in pci_get_pdev's own code (pci.c:567-569), whoever called it: the fault is named
 * for it, as the compiled C names it.
 */
export function pci_get_pdev(d: DomainPtr, sbdf: number, _caller: string): PciDevPtr {
  const where = 'pci_get_pdev';
  if (d === NULL || is_hardware_domain(d)) {
    for (let p = M[xen(XEN.alldevs_list)] as PciDevPtr; p !== NULL; p = list_next(p, PCI_DEV.alldevs_next, where) as PciDevPtr) {
      yield_point(SITE.pci_get_pdev);
      if (M[chk(p, PCI_DEV, where) + PCI_DEV.sbdf] === sbdf && (d === NULL || M[p + PCI_DEV.domain] === d)) return p;
    }
    return NULL;
  }
  for (let p = M[d + DOMAIN.pdev_list] as PciDevPtr; p !== NULL; p = list_next(p, PCI_DEV.domain_next, where) as PciDevPtr) {
    if (M[chk(p, PCI_DEV, where) + PCI_DEV.sbdf] === sbdf) return p;
  }
  return NULL;
}

/** free_pdev (pci.c:436-467): list_del from alldevs_list (460) leaves LIST_POISON1, then xfree (466). */
export function free_pdev(pdev: PciDevPtr): void {
  list_del_alldevs(chk(pdev, PCI_DEV, 'free_pdev', 'write'), 'free_pdev');
  yield_point(SITE['free_pdev:after-list_del']);
  xfree(pdev, 'free_pdev');
}

/** pci_add_device (pci.c:665-832), the unowned-device branch (781-811). */
export function pci_add_device(sbdf: number): number {
  pcidevs_lock();
  let ret = 0;
  const pdev = alloc_pdev(sbdf);                            // pci.c:693, list_add at 348
  if (pdev === NULL) ret = ENOMEM;
  else if (M[chk(pdev, PCI_DEV, 'pci_add_device') + PCI_DEV.domain] === NULL) {
    const hwdom = hardware_domain();
    M[pdev + PCI_DEV.domain] = hwdom;                       // pci.c:783, before the lock
    write_lock(pciLock(hwdom, 'pci_add_device'));
    list_add_domain(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'));
    ret = fn.vpci_assign_device(pdev);
    if (ret) {
      list_del_domain(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'), 'pci_add_device');
      write_unlock(hwdom + DOMAIN.pci_lock);
      M[chk(pdev, PCI_DEV, 'pci_add_device', 'write') + PCI_DEV.domain] = NULL;                       // pci.c:796: left on alldevs_list with no owner
    } else {
      write_unlock(hwdom + DOMAIN.pci_lock);
      yield_point(SITE['pci_add_device:before-iommu_add_device']);
      ret = fn.iommu_add_device(pdev);
      if (ret) {
        yield_point(SITE['pci_add_device:iommu-failed']);
        write_lock(hwdom + DOMAIN.pci_lock);                  // pci.c:804-808
        fn.vpci_deassign_device(pdev);
        list_del_domain(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'), 'pci_add_device');
        write_unlock(hwdom + DOMAIN.pci_lock);
        M[chk(pdev, PCI_DEV, 'pci_add_device', 'write') + PCI_DEV.domain] = NULL;
      }
    }
  }
  if (!ret) Atomics.add(M, xen(XEN.adds), 1);
  pcidevs_unlock();
  return ret;
}

/**
 * pci_remove_device (pci.c:834-891): vPCI goes under the owner's write lock, then free_pdev under pcidevs_lock
 * only. Nothing clears another vCPU's v->vpci.pdev, nor waits for a hwdom walk of alldevs_list.
 */
export function pci_remove_device(sbdf: number): number {
  const where = 'pci_remove_device';
  pcidevs_lock();
  let ret = ENODEV;
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, where);    // pci.c:850-851, under pcidevs_lock
  if (pdev !== NULL) {
    const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
    if (d !== NULL) {
      write_lock(pciLock(d, where));                          // pci.c:875-881
      fn.vpci_deassign_device(pdev);
      list_del_domain(d, chk(pdev, PCI_DEV, where, 'write'), where);
      write_unlock(d + DOMAIN.pci_lock);
    }
    yield_point(SITE['pci_remove_device:before-free']);          // pci_cleanup_msi, iommu_remove_device
    fn.free_pdev(pdev);
    ret = 0;
    Atomics.add(M, xen(XEN.removes), 1);
  }
  pcidevs_unlock();
  return ret;
}

/**
 * The IOMMU's reassign_device (vtd/iommu.c:2804-2815; amd pci_amd_iommu.c:488-496): list_del from source under
 * source's lock, pdev->domain = target under no lock, list_add to target under target's lock.
 */
export function reassign_device(source: number, target: number, pdev: number): number {
  const where = 'reassign_device';
  // Context (un)mapping cannot fail in the lab.
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] === target) return 0;
  write_lock(pciLock(source, where));
  list_del_domain(source, chk(pdev, PCI_DEV, where, 'write'), where);
  write_unlock(source + DOMAIN.pci_lock);
  yield_point(SITE['reassign_device:between-lists']);
  M[chk(pdev, PCI_DEV, where, 'write') + PCI_DEV.domain] = target;
  write_lock(pciLock(target, where));
  list_add_domain(target, chk(pdev, PCI_DEV, where, 'write'));
  write_unlock(target + DOMAIN.pci_lock);
  yield_point(SITE['reassign_device:after-move']);
  return 0;
}

/** assign_device (pci.c:1593-1677); the caller (the domctl) holds pcidevs_lock. */
export function assign_device(d: DomainPtr, sbdf: number): number {
  const where = 'assign_device';
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, where);
  // device_assigned() (pci.c:1570-1590) cleared it for assignment: it exists, the hardware domain or dom_io owns it.
  if (pdev === NULL) return ENODEV;
  const owner = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  if (owner !== hardware_domain() && owner !== dom_io()) return -16;   // -EBUSY (device_assigned)
  yield_point(SITE.assign_device);
  write_lock(pciLock(owner, where));                          // pci.c:1616-1618
  fn.vpci_deassign_device(pdev);
  write_unlock(owner + DOMAIN.pci_lock);
  let rc = reassign_device(owner, d, pdev);                   // iommu_call(assign_device), pci.c:1633
  if (rc) return rc;
  write_lock(pciLock(d, where));                              // pci.c:1648-1650
  rc = fn.vpci_assign_device(pdev);
  write_unlock(d + DOMAIN.pci_lock);
  if (!rc && d === dom_io()) M[chk(pdev, PCI_DEV, where, 'write') + PCI_DEV.quarantine] = 1;  // pci.c:1672-1674
  return rc;
}

/**
 * deassign_device (pci.c:894-959): to dom_io with quarantine (pci.c:909-920; iommu_quarantine, Xen's default), which
 * has no vPCI, and from dom_io back to the hardware domain (`xl pci-assignable-remove`); straight back to the hardware
 * domain with iommu=no-quarantine. The DomU's p2m still maps the BARs afterwards: removing those mappings is the
 * toolstack's later XEN_DOMCTL_memory_mapping, not this function's. A device the toolstack once assigned to dom_io
 * (pdev->quarantine, pci.c:1672-1674) goes back there even with iommu=no-quarantine, until it is back with the
 * hardware domain (943-944).
 */
export function deassign_device(d: DomainPtr, sbdf: number): number {
  const where = 'deassign_device';
  const pdev = pci_get_pdev(d, sbdf, where) as PciDevPtr;                  // pci.c:906
  if (pdev === NULL) return ENODEV;
  const quarantined = iommu_quarantine() || M[chk(pdev, PCI_DEV, where) + PCI_DEV.quarantine] !== 0;   // pci.c:911
  const target = quarantined && M[pdev + PCI_DEV.domain] !== dom_io() ? dom_io() : hardware_domain();
  yield_point(SITE.deassign_device);
  write_lock(pciLock(d, where));                              // pci.c:933-935
  fn.vpci_deassign_device(pdev);
  write_unlock(d + DOMAIN.pci_lock);
  let rc = reassign_device(d, target, pdev);                  // pci.c:938
  if (rc) return rc;
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] === hardware_domain()) M[pdev + PCI_DEV.quarantine] = 0;  // 943-944
  write_lock(pciLock(target, where));                         // pci.c:948-951
  rc = fn.vpci_assign_device(pdev);
  write_unlock(target + DOMAIN.pci_lock);
  return rc;
}
