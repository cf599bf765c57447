// pci.c's add and remove under the C backend, a TypeScript stepping stone: the lab's lib/xen/l21/pci.ts line for
// line (the same yield points, pcidevs_lock, lab lists and fault points), plus C's side of every list operation,
// at the same moment, on the C mirror of the device: compiled modify_bars walks C's d->pdev_list and compiled
// vpci_read finds devices on C's alldevs list, so both must change when Xen's would. pci.c itself is not compiled
// yet (README: what is compiled and what is the lab's).

import { M } from '../mem/machine.js';
import { NULL } from '../mem/heap.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { PCI_DEV, ENOMEM, ENODEV } from '../xen/types.js';
import { XEN, xen, hardware_domain } from '../xen/state.js';
import { fn } from '../xen/fn.js';
import { pcidevs_lock, pcidevs_unlock, alloc_pdev, free_pdev, list_add_pdev, list_del_pdev, pci_get_pdev_by_domain } from '../xen/pci.js';
import type { PciDevPtr } from '../xen/types.js';

/** What pci.ts needs of the backend: C's mirror of a lab device, and C's list operations on it. */
export interface CDevices {
  mirror(pdev: PciDevPtr): number;
  setOwner(c: number, labDomain: number): void;
  free(c: number): void;
}

/** pci_add_device (pci.c 4.17 unowned-device branch; lib/xen/l21/pci.ts). */
export function pci_add_device(cx: CDevices, sbdf: number): number {
  pcidevs_lock();
  let ret = 0;
  const pdev = alloc_pdev(sbdf);
  if (pdev === NULL) ret = ENOMEM;
  else if (M[pdev + PCI_DEV.domain] === NULL) {
    const hwdom = hardware_domain();
    const c = cx.mirror(pdev);
    list_add_pdev(hwdom, pdev);              // before vPCI setup: modify_bars walks this list
    cx.setOwner(c, hwdom);
    ret = fn.vpci_add_handlers(pdev);
    if (ret) { list_del_pdev(pdev); cx.setOwner(c, NULL); M[pdev + PCI_DEV.domain] = NULL; }
    if (!ret) {
      yield_point(SITE['pci_add_device:before-iommu_add_device']);
      ret = fn.iommu_add_device(pdev);
      if (ret) {
        yield_point(SITE['pci_add_device:iommu-failed']);
        fn.vpci_remove_device(pdev);
        list_del_pdev(pdev);
        cx.setOwner(c, NULL);
        M[pdev + PCI_DEV.domain] = NULL;       // left on alldevs_list with no owner
      }
    }
  }
  if (!ret) Atomics.add(M, xen(XEN.adds), 1);
  pcidevs_unlock();
  return ret;
}

/** pci_remove_device (pci.c 4.17): nothing waits for other vCPUs' pending work or in-flight accesses. */
export function pci_remove_device(cx: CDevices, sbdf: number): number {
  pcidevs_lock();
  let ret = ENODEV;
  const pdev = pci_get_pdev_by_domain(NULL, sbdf, 'pci_remove_device');
  if (pdev !== NULL) {
    const c = cx.mirror(pdev);
    fn.vpci_remove_device(pdev);
    ret = 0;
    yield_point(SITE['pci_remove_device:after-vpci']);
    list_del_pdev(pdev);                     // pci_cleanup_msi, iommu_remove_device: not modelled
    cx.setOwner(c, NULL);
    yield_point(SITE['pci_remove_device:before-free']);
    cx.free(c);                              // free_pdev: list_del(&pdev->alldevs_list), xfree(pdev)
    free_pdev(pdev);
    Atomics.add(M, xen(XEN.removes), 1);
  }
  pcidevs_unlock();
  return ret;
}
