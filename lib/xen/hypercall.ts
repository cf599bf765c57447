// The hypercall entry points Dom0 uses, with Xen's continuation rule: a handler returning -ERESTART gets
// hypercall_create_continuation, i.e. the vCPU returns towards the guest (running hvm_do_resume and so its
// pending vPCI work) and re-executes the hypercall from the start.

import { M } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { crash } from '../mem/crash.js';
import { yield_point, backoff_point } from '../sched/mode.js';
import { SITE, type SiteName } from '../trace/sites.js';
import { record, EV, tstat, TSTAT } from '../trace/recorder.js';
import { cpu } from '../mem/machine.js';
import { VCPU, DOMAIN, PCI_DEV, ERESTART, ENODEV } from './types.js';
import { current, XEN, xen } from './state.js';
import { list_next } from './list.js';
import { pcidevs_lock, pcidevs_unlock, unmap_device_frames } from './pci.js';
import { fn, installedCaps } from './fn.js';
import { write_lock, write_unlock } from '../sync/rwlock.js';
import { NULL } from '../mem/heap.js';
import { vcpu_return_to_guest } from './domain.js';
import type { DomainPtr, PciDevPtr } from './types.js';

/**
 * The lab's budget of re-executions of one hypercall. Xen has none: a continuation is re-issued until it completes.
 * Past it the trial ends as 'restart-budget' (with the count and the time spent), which says the hypercall did not
 * complete within the budget, not that it never would: that is a livelock claim, which needs an argument.
 */
export const MAX_CONTINUATIONS = 10_000;

function hypercall(site: SiteName, body: () => number): number {
  const v = chk(current(), VCPU, site);
  M[tstat(cpu, TSTAT.HYPERCALLS)]++;
  const t0 = performance.now();
  for (let n = 0; ; n++) {
    record(EV.ENTER, SITE[site]);
    yield_point(SITE[site]);
    const rc = body();
    record(EV.RET, SITE[site], rc);
    if (rc !== ERESTART) return rc;
    // hypercall_create_continuation: back towards the guest, softirqs and pending work run, then re-issue.
    backoff_point(SITE.hypercall_create_continuation);
    vcpu_return_to_guest(v);
    if (n + 1 >= MAX_CONTINUATIONS) {
      crash('restart-budget', site, `continuation budget exceeded: -ERESTART ${n + 1} times in ${Math.round(performance.now() - t0)} ms, the hypercall never completed`);
    }
  }
}

/** do_physdev_op(PHYSDEVOP_pci_device_add) — Dom0 only, no continuation at L21 (the body never restarts). */
export function PHYSDEVOP_pci_device_add(sbdf: number): number {
  return hypercall('PHYSDEVOP_pci_device_add', () => fn.pci_add_device(sbdf));
}

/** do_physdev_op(PHYSDEVOP_pci_device_remove) — a strategy may return -ERESTART (the seed's proposal). */
export function PHYSDEVOP_pci_device_remove(sbdf: number): number {
  return hypercall('PHYSDEVOP_pci_device_remove', () => fn.pci_remove_device(sbdf));
}

/** iommu_do_pci_domctl(XEN_DOMCTL_assign_device): pcidevs_lock around assign_device; -ERESTART continues. */
export function XEN_DOMCTL_assign_device(d: DomainPtr, sbdf: number): number {
  return hypercall('XEN_DOMCTL_assign_device', () => {
    pcidevs_lock();
    const rc = fn.assign_device(d, sbdf);
    pcidevs_unlock();
    return rc;
  });
}

/** iommu_do_pci_domctl(XEN_DOMCTL_deassign_device). */
export function XEN_DOMCTL_deassign_device(d: DomainPtr, sbdf: number): number {
  return hypercall('XEN_DOMCTL_deassign_device', () => {
    pcidevs_lock();
    const rc = fn.deassign_device(d, sbdf);
    pcidevs_unlock();
    return rc;
  });
}

const ENOSYS = -38;

/**
 * do_physdev_op(PHYSDEVOP_pci_device_reset) (HEAD drivers/pci/physdev.c:71-123): look the device up under
 * pcidevs_lock, take its owner's pci_lock for writing, drop pcidevs_lock, vpci_reset_device. Late-2021 Xen has no
 * such sub-op (-ENOSYS).
 */
export function PHYSDEVOP_pci_device_reset(sbdf: number): number {
  return hypercall('PHYSDEVOP_pci_device_reset', () => (installedCaps.physdevReset ? fn.physdev_pci_device_reset(sbdf) : ENOSYS));
}

/** PHYSDEVOP_pci_device_reset's body at HEAD (fn.physdev_pci_device_reset; the C backend runs it as C). */
export function physdev_pci_device_reset(sbdf: number): number {
  const where = 'PHYSDEVOP_pci_device_reset';
  pcidevs_lock();
  const pdev = fn.pci_get_pdev(NULL, sbdf, where);        // physdev.c:97
  if (pdev === NULL) { pcidevs_unlock(); return ENODEV; }
  write_lock(chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], DOMAIN, where) + DOMAIN.pci_lock);   // physdev.c:105
  pcidevs_unlock();
  const ret = fn.vpci_reset_device(pdev);                 // physdev.c:113, any of the four reset kinds
  write_unlock(chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], DOMAIN, where) + DOMAIN.pci_lock);   // physdev.c:120
  return ret;
}

/**
 * do_physdev_op(PHYSDEVOP_pci_mmcfg_reserved) (HEAD x86/physdev.c:529-550): Dom0 says an MMCFG area is usable, and
 * pci_segment_iterate (pci.c:1922-1941) runs physdev_check_pci_extcfg (physdev.c:168-188) on every device of the
 * segment, the lab's whole bus range, under pcidevs_lock only: vpci_reinit_ext_capabilities on a live pdev->vpci.
 * Late-2021 Xen records the area (pci_mmcfg_reserved) and touches no vPCI state.
 */
export function PHYSDEVOP_pci_mmcfg_reserved(): number {
  return hypercall('PHYSDEVOP_pci_mmcfg_reserved', () => (installedCaps.mmcfgReinit ? fn.physdev_pci_mmcfg_reserved() : 0));
}

/** PHYSDEVOP_pci_mmcfg_reserved's walk at HEAD (fn.physdev_pci_mmcfg_reserved; the C backend runs it as C). */
export function physdev_pci_mmcfg_reserved(): number {
  const where = 'pci_segment_iterate';
  pcidevs_lock();
  for (let pdev = M[xen(XEN.alldevs_list)] as PciDevPtr; pdev !== NULL; pdev = list_next(pdev, PCI_DEV.alldevs_next, where) as PciDevPtr) {
    fn.vpci_reinit_ext_capabilities(pdev);   // its rc is not acted upon (physdev.c:177-184)
  }
  pcidevs_unlock();
  return 0;
}

/**
 * XEN_DOMCTL_memory_mapping with DPCI_REMOVE_MAPPING, for every BAR of a device the toolstack took from d: the
 * toolstack's own step after XEN_DOMCTL_deassign_device (HEAD's deassign_device leaves the p2m alone).
 */
export function XEN_DOMCTL_memory_mapping_remove(d: number, sbdf: number): number {
  return hypercall('XEN_DOMCTL_memory_mapping', () => { unmap_device_frames(d, sbdf); return 0; });
}
