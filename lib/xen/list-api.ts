// Xen's list_del(&pdev->alldevs_list) and list_del(&pdev->domain_list) by one name for patch files: the model's
// lists are singly linked, so the list head is named too (ALLDEVS_LIST(), or &d->pdev_list as d + DOMAIN.pdev_list).

import { M } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { DOMAIN, PCI_DEV } from './types.js';
import { XEN, xen } from './state.js';
import { list_del_alldevs, list_del_domain } from './list.js';

/** &pseg->alldevs_list: the address of the segment's list head word. */
export function ALLDEVS_LIST(): number { return xen(XEN.alldevs_list); }

/**
 * list_del(entry) for a pci_dev on the list whose head word is at `head` (ALLDEVS_LIST(), or d + DOMAIN.pdev_list):
 * unlinks pdev and leaves LIST_POISON1 in its next link, as list.h:186 does.
 */
export function list_del(pdev: number, head: number, where = 'list_del'): void {
  chk(pdev, PCI_DEV, where);
  if (head === xen(XEN.alldevs_list)) { list_del_alldevs(pdev, where); return; }
  const d = head - DOMAIN.pdev_list;
  if (M.length === 0 || d <= 0) throw new Error('list_del: head is neither ALLDEVS_LIST() nor d + DOMAIN.pdev_list');
  list_del_domain(d, pdev, where);
}
