// xen/include/xen/list.h, for the two pci_dev lists: pseg->alldevs_list and d->pdev_list, in both generations
// (list_del has poisoned the entry since long before late 2021: L21 list.h:183-184, HEAD list.h:186). The model
// links them singly (a next word per list in struct pci_dev); list_del leaves LIST_POISON1 in the deleted entry's
// next link, so a walker standing on an entry deleted under it faults when it moves on.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { crash } from '../mem/crash.js';
import { DOMAIN, PCI_DEV } from './types.js';
import { XEN, xen } from './state.js';

/** LIST_POISON1 (list.h:19): an address Xen never maps. */
export const LIST_POISON1 = 0x00100100;
/** LIST_POISON2 (list.h:20): what list_del leaves in the prev link. */
export const LIST_POISON2 = 0x00200200;

/** Read an entry's next link; following LIST_POISON1 is a page fault, classed with the other lifetime bugs. */
export function list_next(p: number, field: number, where: string): number {
  const n = M[p + field];
  if (n === LIST_POISON1) {
    crash('use-after-free', where, 'page fault at LIST_POISON1 (0x00100100): the walk moved on from an entry list_del removed under it (list.h:186)');
  }
  return n;
}

/** list_add(&pdev->alldevs_list, &pseg->alldevs_list) (alloc_pdev, pci.c:348). */
export function list_add_alldevs(pdev: number): void {
  M[pdev + PCI_DEV.alldevs_next] = M[xen(XEN.alldevs_list)];
  M[xen(XEN.alldevs_list)] = pdev;
}

/** list_del(&pdev->alldevs_list) (free_pdev, pci.c:460). */
export function list_del_alldevs(pdev: number, where: string): void {
  for (let link = xen(XEN.alldevs_list); M[link] !== NULL; link = M[link] + PCI_DEV.alldevs_next) {
    if (M[link] === pdev) { M[link] = M[pdev + PCI_DEV.alldevs_next]; break; }
    chk(M[link], PCI_DEV, where);
  }
  M[pdev + PCI_DEV.alldevs_next] = LIST_POISON1;
}

/** list_add(&pdev->domain_list, &d->pdev_list): pdev->domain is set by the caller, separately, as in Xen. */
export function list_add_domain(d: number, pdev: number): void {
  M[pdev + PCI_DEV.domain_next] = M[chk(d, DOMAIN, 'list_add') + DOMAIN.pdev_list];
  M[d + DOMAIN.pdev_list] = pdev;
}

/** list_del(&pdev->domain_list) from the list of d (the domain whose list holds it; pdev->domain is not touched). */
export function list_del_domain(d: number, pdev: number, where: string): void {
  for (let link = chk(d, DOMAIN, where) + DOMAIN.pdev_list; M[link] !== NULL; link = M[link] + PCI_DEV.domain_next) {
    if (M[link] === pdev) { M[link] = M[pdev + PCI_DEV.domain_next]; break; }
  }
  M[pdev + PCI_DEV.domain_next] = LIST_POISON1;
}
