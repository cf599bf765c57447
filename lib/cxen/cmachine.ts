// The compiled C's half of the machine, shared by both C strategies (backend.ts for 4.17, backend-head.ts for
// HEAD): the addon attached to this thread's machine, and C's struct domain / vcpu mirrors of the lab's, built on
// the first call into C (boot thread, once per machine). The word of C's globals is kept in the Xen state's
// `strategy` word (reserved, unused by the TypeScript model) so that every thread of the machine finds them.

import { M } from '../mem/machine.js';
import { XEN, xen } from '../xen/state.js';
import { nr_domains, domain_by_index } from '../xen/domain.js';
import { DOMAIN, PCI_DEV } from '../xen/types.js';
import { LIST_POISON1 } from '../xen/list.js';
import { loadAddon, type Addon } from './addon.js';
import type { PciDevPtr } from '../xen/types.js';

/**
 * HEAD's C reads d->pci_lock: its struct domain points at the lab domain's lock words. With pci.c compiled
 * (recipes.ts pciC) devices are C's alone: dom_io is pci.c's, and devices the lab's boot hid go through pci.c.
 */
export interface CMachineOptions { pciLock: boolean; pciC?: boolean }

/** Build C's mirrors of the lab's domains and vCPUs (and of dom_xen, dom_io). */
function bootC(a: Addon, o: CMachineOptions): number {
  const g = a.call('cx_boot', xen(XEN.system_state), xen(XEN.pcidevs_lock), xen(XEN.iommu_quarantine));
  a.call('cx_set_globals', g);
  const mirrorDomain = (d: number): number => {
    const cd = a.call('cx_domain_create', M[d + DOMAIN.domain_id], M[d + DOMAIN.is_hardware_domain], M[d + DOMAIN.has_vpci], d);
    if (o.pciLock) a.call('cx_domain_pci_lock', cd, d + DOMAIN.pci_lock);
    for (let j = 0; j < M[d + DOMAIN.max_vcpus]; j++) a.call('cx_vcpu_create', cd, j, M[d + DOMAIN.vcpu + j]);
    return cd;
  };
  for (let i = 0; i < nr_domains(); i++) mirrorDomain(domain_by_index(i));
  const dx = M[xen(XEN.dom_xen)];
  if (dx) a.call('cx_set_dom_xen', mirrorDomain(dx));
  const dio = M[xen(XEN.dom_io)];
  if (dio && o.pciC) a.call('cx_set_dom_io', mirrorDomain(dio));
  else if (dio && o.pciLock) mirrorDomain(dio);
  // Devices the lab's boot hid before C existed (lib/lab/boot.ts pci_hide_device, on dom_xen's list; at HEAD the
  // device is the hardware domain's for a moment there): the compiled pci_hide_device.
  for (let p = dx ? M[dx + DOMAIN.pdev_list] : 0; o.pciC && p !== 0 && p !== LIST_POISON1; p = M[p + PCI_DEV.domain_next]) {
    a.call('x_pci_hide_device', M[p + PCI_DEV.sbdf]);
  }
  Atomics.store(M, xen(XEN.strategy), g);
  return g;
}

/** `c()`: the addon at `addonPath`, attached to this thread's machine and its C globals. */
export function cMachine(addonPath: string, o: CMachineOptions): () => Addon {
  let cx: Addon | undefined;
  let readyFor: Int32Array | null = null;
  return (): Addon => {
    cx ??= loadAddon(addonPath);
    if (readyFor !== M) {
      const g = Atomics.load(M, xen(XEN.strategy));
      if (g === 0) bootC(cx, o); else cx.call('cx_set_globals', g);
      readyFor = M;
    }
    return cx;
  };
}

/** C's mirror of a lab device: made on first use; one pci_hide_device made keeps its owner (dom_xen) in C too. */
export function mirrorPdev(a: Addon, pdev: PciDevPtr): number {
  const have = a.call('cx_pdev_of', pdev);
  const owner = M[pdev + PCI_DEV.domain];
  return have || a.call('cx_pdev_create', owner ? a.call('cx_domain_of', owner) : 0, M[pdev + PCI_DEV.sbdf], pdev);
}

/** The lab domain whose pdev_list holds pdev (dom_xen's for a hidden device), or 0. */
function listOwner(pdev: PciDevPtr): number {
  const ds = [...Array.from({ length: nr_domains() }, (_, i) => domain_by_index(i)), M[xen(XEN.dom_xen)], M[xen(XEN.dom_io)]];
  for (const d of ds) {
    if (!d) continue;
    for (let p = M[d + DOMAIN.pdev_list]; p !== 0 && p !== LIST_POISON1; p = M[p + PCI_DEV.domain_next]) if (p === pdev) return d;
  }
  return 0;
}

/**
 * HEAD's mirror: made on first use on the list the lab device is on, with the lab's pdev->domain, and what alloc_pdev
 * reads from the device (msi_pos, msix_pos, msi_maxvec). The two may differ: setup_hwdom_pci_devices makes a hidden
 * device the hardware domain's for its vpci_assign_device while it stays on dom_xen's list (lib/lab/boot.ts).
 */
export function mirrorPdevHead(a: Addon, pdev: PciDevPtr): number {
  const have = a.call('cx_pdev_of', pdev);
  if (have) return have;
  const cp = a.call('cx_pdev_create', cDomain(a, listOwner(pdev)), M[pdev + PCI_DEV.sbdf], pdev);
  a.call('cx_pdev_set_domain', cp, cDomain(a, M[pdev + PCI_DEV.domain]));
  a.call('cx_pdev_caps', cp);
  return cp;
}

/** Set C's pdev->domain to the lab device's list owner when they differ (the boot-time swap above, undone). */
export function syncOwner(a: Addon, pdev: PciDevPtr, cp: number): void {
  const owner = listOwner(pdev);
  if (owner && owner !== M[pdev + PCI_DEV.domain]) a.call('cx_pdev_set_domain', cp, cDomain(a, owner));
}

/** The C mirror of a lab domain (0 for none). */
export const cDomain = (a: Addon, d: number): number => (d ? a.call('cx_domain_of', d) : 0);
