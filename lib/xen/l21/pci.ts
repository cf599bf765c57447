// xen/drivers/passthrough/pci.c as of late 2021 (with the v4 series' vPCI assign/deassign hooks): device add and
// remove, assignment. pcidevs_lock, the lists and BAR sizing are shared with HEAD (lib/xen/pci.ts).

import { M } from '../../mem/machine.js';
import { chk, NULL } from '../../mem/heap.js';
import { yield_point, backoff_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { PCI_DEV, ENOMEM, ENODEV, ERESTART, EBUSY } from '../types.js';
import { XEN, xen, hardware_domain, dom_io, iommu_quarantine } from '../state.js';
import { fn } from '../fn.js';
import { pcidevs_lock, pcidevs_unlock, alloc_pdev, free_pdev, list_add_pdev, list_del_pdev, unmap_device_bars } from '../pci.js';
// The walk without the yield, for lookups under pcidevs_lock (below).
import { pci_get_pdev_by_domain as pci_get_pdev_by_domain_locked } from '../pci.js';
import { list_next } from '../list.js';
import type { DomainPtr, PciDevPtr } from '../types.js';

/**
 * pci_get_pdev_by_domain (L21 pci.c:611-634) as vpci_read and vpci_write call it (vpci.c:326, 436), with no lock at
 * all: its walk of alldevs_list (pci.c:629) can stand on the node pci_remove_device frees under pcidevs_lock
 * (pci.c:889-901, free_pdev 499-501). It yields at each node before reading it, at the site HEAD's pci_get_pdev and
 * the compiled C yield at (pci_get_pdev); a freed node is read in this function's own code, so the fault is named
 * for it, whoever called it. Lookups made under pcidevs_lock (pci_remove_device, assign_device, deassign_device,
 * alloc_pdev) use lib/xen/pci.ts's walk without the yield, as HEAD's model does: nothing else changes the list then.
 */
export function pci_get_pdev_by_domain(d: DomainPtr, sbdf: number, _caller: string): PciDevPtr {
  const where = 'pci_get_pdev_by_domain';
  for (let p = M[xen(XEN.alldevs_list)] as PciDevPtr; p !== NULL; p = list_next(p, PCI_DEV.alldevs_next, where) as PciDevPtr) {
    yield_point(SITE.pci_get_pdev);
    if (M[chk(p, PCI_DEV, where) + PCI_DEV.sbdf] === sbdf && (d === NULL || M[p + PCI_DEV.domain] === d)) return p;
  }
  return NULL;
}

/** Retire vPCI state where no continuation is possible: retry in place (what a -ERESTART strategy must do here). */
function vpci_remove_device_sync(pdev: PciDevPtr): void {
  while (fn.vpci_remove_device(pdev) === ERESTART) backoff_point(SITE['vpci_process_pending:restart']);
}

/** pci_add_device (pci.c L21 726-871), the unowned-device branch. */
export function pci_add_device(sbdf: number): number {
  pcidevs_lock();
  let ret = 0;
  const pdev = alloc_pdev(sbdf);
  if (pdev === NULL) ret = ENOMEM;
  else if (M[chk(pdev, PCI_DEV, 'pci_add_device') + PCI_DEV.domain] === NULL) {
    const hwdom = hardware_domain();
    fn.pdev_list_write_enter(hwdom);
    list_add_pdev(hwdom, chk(pdev, PCI_DEV, 'pci_add_device', 'write'));             // before vPCI setup: modify_bars walks this list
    ret = fn.vpci_add_handlers(pdev);
    if (ret) { list_del_pdev(pdev); M[pdev + PCI_DEV.domain] = NULL; }   // pci.c:838-839
    fn.pdev_list_write_exit(hwdom);
    if (!ret) {
      yield_point(SITE['pci_add_device:before-iommu_add_device']);
      ret = fn.iommu_add_device(pdev);
      if (ret) {
        yield_point(SITE['pci_add_device:iommu-failed']);
        fn.pdev_list_write_enter(hwdom);
        vpci_remove_device_sync(pdev);
        list_del_pdev(pdev);
        M[pdev + PCI_DEV.domain] = NULL;       // pci.c:846-847: left on alldevs_list with no owner
        fn.pdev_list_write_exit(hwdom);
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
  const pdev = pci_get_pdev_by_domain_locked(NULL, sbdf, 'pci_remove_device');
  if (pdev !== NULL) {
    const d = M[chk(pdev, PCI_DEV, 'pci_remove_device') + PCI_DEV.domain] as DomainPtr;
    if (d !== NULL) fn.pdev_list_write_enter(d);
    // L21 pci.c:892 calls vpci_remove_device whatever the owner: a pdev whose add failed (pci.c:839, 847 leave it
    // on alldevs_list with pdev->domain == NULL) reaches has_vpci(NULL) there.
    ret = fn.vpci_remove_device(pdev);
    if (ret === 0) {
      yield_point(SITE['pci_remove_device:after-vpci']);
      list_del_pdev(pdev);                   // pci_cleanup_msi, iommu_remove_device: not modelled
      if (d !== NULL) fn.pdev_list_write_exit(d);
      yield_point(SITE['pci_remove_device:before-free']);
      free_pdev(pdev);
      Atomics.add(M, xen(XEN.removes), 1);
    } else if (d !== NULL) {
      fn.pdev_list_write_exit(d);
    }
  }
  pcidevs_unlock();
  return ret;
}

/** assign_device (L21 1473-1519 + v4 vPCI hooks): vPCI leaves the old owner, the IOMMU moves it, vPCI joins d. */
export function assign_device(d: DomainPtr, sbdf: number): number {
  const pdev = pci_get_pdev_by_domain_locked(NULL, sbdf, 'assign_device');
  if (pdev === NULL) return ENODEV;
  // device_assigned (L21 pci.c:1450-1470): the hardware domain or dom_io (a quarantined device) owns it.
  const owner = M[chk(pdev, PCI_DEV, 'assign_device') + PCI_DEV.domain] as DomainPtr;
  if (owner !== hardware_domain() && owner !== dom_io()) return EBUSY;
  yield_point(SITE.assign_device);
  fn.pdev_list_write_enter(owner);
  const rc = fn.vpci_remove_device(pdev);     // vpci_deassign_device(pdev->domain, pdev)
  if (rc === 0) list_del_pdev(pdev);
  fn.pdev_list_write_exit(owner);
  if (rc) return rc;
  fn.pdev_list_write_enter(d);
  list_add_pdev(d, chk(pdev, PCI_DEV, 'assign_device', 'write')); // iommu assign: not modelled beyond ownership
  if (d === dom_io()) M[pdev + PCI_DEV.quarantine] = 1;         // L21 pci.c:1514-1516
  const ret = fn.vpci_add_handlers(pdev);       // vpci_assign_device(d, pdev)
  fn.pdev_list_write_exit(d);
  return ret;
}

/**
 * deassign_device (L21 907-956 + v4 vPCI hooks): to dom_io with quarantine (L21 pci.c:923-926, iommu_quarantine:
 * CONFIG_IOMMU_QUARANTINE_BASIC, Kconfig:46), where has_vpci(dom_io) is false; from dom_io, or with
 * iommu=no-quarantine, back to the hardware domain, unless the toolstack once assigned the device to dom_io
 * (pdev->quarantine, L21 pci.c:1514-1516, cleared when it is back with the hardware domain, 945-946).
 */
export function deassign_device(d: DomainPtr, sbdf: number): number {
  const pdev = pci_get_pdev_by_domain_locked(d, sbdf, 'deassign_device');
  if (pdev === NULL) return ENODEV;
  const quarantined = iommu_quarantine() || M[chk(pdev, PCI_DEV, 'deassign_device') + PCI_DEV.quarantine] !== 0;  // L21 pci.c:924
  const target = quarantined && M[pdev + PCI_DEV.domain] !== dom_io() ? dom_io() : hardware_domain();
  yield_point(SITE.deassign_device);
  fn.pdev_list_write_enter(d);
  const rc = fn.vpci_remove_device(pdev);     // vpci_deassign_device(d, pdev)
  if (rc === 0) {
    unmap_device_bars(d, sbdf);
    list_del_pdev(pdev);
  }
  fn.pdev_list_write_exit(d);
  if (rc) return rc;
  fn.pdev_list_write_enter(target);
  list_add_pdev(target, chk(pdev, PCI_DEV, 'deassign_device', 'write'));
  if (target === hardware_domain()) M[pdev + PCI_DEV.quarantine] = 0;   // L21 pci.c:945-946
  const ret = fn.vpci_add_handlers(pdev);
  fn.pdev_list_write_exit(target);
  return ret;
}
