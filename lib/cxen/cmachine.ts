// The compiled C's half of the machine, shared by both C strategies (backend.ts for 4.17, backend-head.ts for
// HEAD): the addon attached to this thread's machine, and C's struct domain / vcpu mirrors of the lab's, built on
// the first call into C (boot thread, once per machine). The word of C's globals is kept in the Xen state's
// `strategy` word (reserved, unused by the TypeScript model) so that every thread of the machine finds them.

import { M } from '../mem/machine.js';
import { XEN, xen, current } from '../xen/state.js';
import { nr_domains, domain_by_index } from '../xen/domain.js';
import { DOMAIN, PCI_DEV } from '../xen/types.js';
import { LIST_POISON1 } from '../xen/list.js';
import { loadAddon, type Addon } from './addon.js';
import type { VcpuPtr, DomainPtr, MmioData } from '../xen/types.js';

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

/** pci.c's compiled entry; a success counts as the model's does (campaign totals). */
function counted(rc: number, slot: number): number {
  if (rc === 0) Atomics.add(M, xen(slot), 1);
  return rc;
}

/**
 * What both generations hand to the compiled C alike: the guest's accesses and its return to the guest (the vPCI
 * files), and pci.c's add, remove, assign and deassign (native/pci-entries.c), each as `current`.
 */
export function compiledEntries(c: () => Addon) {
  return {
    vpci_read: () => (sbdf: number, reg: number, size: number) => c().call('x_vpci_read_as', current(), sbdf, reg, size) >>> 0,
    vpci_write: () => (sbdf: number, reg: number, size: number, data: number) => { c().call('x_vpci_write_as', current(), sbdf, reg | (size << 16), data >>> 0); },
    vpci_process_pending: () => (v: VcpuPtr) => c().call('x_vpci_process_pending_as', v) !== 0,
    pci_add_device: () => (sbdf: number) => counted(c().call('x_pci_add_device', sbdf, current()), XEN.adds),
    pci_remove_device: () => (sbdf: number) => counted(c().call('x_pci_remove_device', sbdf, current()), XEN.removes),
    assign_device: () => (d: DomainPtr, sbdf: number) => c().call('x_assign_device', d, sbdf, current()),
    deassign_device: () => (d: DomainPtr, sbdf: number) => c().call('x_deassign_device', d, sbdf, current()),
  };
}

/** The MSI-X table MMIO the lab's intercept claims (lib/xen/intercept.ts): msix.c's handlers, as init_msix registered them. */
export function compiledMsix(c: () => Addon) {
  return {
    msix_accept: () => (v: VcpuPtr, addr: number) => c().call('x_msix_accept', v, addr) !== 0,
    msix_read: () => (v: VcpuPtr, addr: number, len: number, data: MmioData) => {
      const rc = c().call('x_msix_read', v, addr, len);
      data.lo = c().call('x_msix_data', 0) >>> 0;
      data.hi = c().call('x_msix_data', 1) >>> 0;
      return rc;
    },
    msix_write: () => (v: VcpuPtr, addr: number, len: number, data: MmioData) => c().call('x_msix_write', v, addr, len + 256 * (data.hi >>> 0), data.lo >>> 0),
  };
}
