// The C backend as the lab runs it: a patch over the late-2021 generation whose vPCI entries are Xen's compiled
// C (the addon named in this module's URL, ?addon=PATH&name=NAME), so every worker that installs the machine's
// strategy loads the same build. What stays the lab's: guests and toolstack (scenarios), hypercalls, the ECAM trap,
// hvm_do_resume, pci.c's add/remove (lib/cxen/pci.ts), the p2m, the hardware, locks, scheduler, recorder and judge.
//
// C's own struct domain / vcpu / pci_dev mirror the lab's (glue.c); they are built on the boot thread at the first
// call into C, and the word of C's globals is kept in the Xen state's `strategy` word (reserved, unused by the
// TypeScript model) so that every thread of the machine finds them.

import { M } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { XEN, xen, current } from '../xen/state.js';
import { nr_domains, domain_by_index } from '../xen/domain.js';
import { DOMAIN, PCI_DEV } from '../xen/types.js';
import { loadAddon, type Addon } from './addon.js';
import { pci_add_device, pci_remove_device, type CDevices } from './pci.js';
import type { Patch } from '../strategy/patch.js';
import type { PciDevPtr, VcpuPtr, DomainPtr } from '../xen/types.js';

const params = new URL(import.meta.url).searchParams;
const addonPath = params.get('addon') ?? '';
const name = params.get('name') ?? 'c';

let cx: Addon | undefined;
let readyFor: Int32Array | null = null;

/** Build C's mirrors of the lab's domains and vCPUs (boot thread, once per machine). */
function bootC(a: Addon): number {
  const g = a.call('cx_boot', xen(XEN.system_state), xen(XEN.pcidevs_lock));
  a.call('cx_set_globals', g);
  const mirrorDomain = (d: number): number => {
    const cd = a.call('cx_domain_create', M[d + DOMAIN.domain_id], M[d + DOMAIN.is_hardware_domain], M[d + DOMAIN.has_vpci], d);
    for (let j = 0; j < M[d + DOMAIN.max_vcpus]; j++) a.call('cx_vcpu_create', cd, j, M[d + DOMAIN.vcpu + j]);
    return cd;
  };
  for (let i = 0; i < nr_domains(); i++) mirrorDomain(domain_by_index(i));
  const dx = M[xen(XEN.dom_xen)];
  if (dx) a.call('cx_set_dom_xen', mirrorDomain(dx));
  Atomics.store(M, xen(XEN.strategy), g);
  return g;
}

/** The addon, attached to this thread's machine and its C globals. */
function c(): Addon {
  cx ??= loadAddon(addonPath);
  if (readyFor !== M) {
    const g = Atomics.load(M, xen(XEN.strategy));
    if (g === 0) bootC(cx); else cx.call('cx_set_globals', g);
    readyFor = M;
  }
  return cx;
}

const devices: CDevices = {
  mirror(pdev: PciDevPtr): number {
    const have = c().call('cx_pdev_of', pdev);
    // A device made outside pci_add_device (pci_hide_device's, owned by dom_xen) keeps its owner in C too.
    const owner = M[pdev + PCI_DEV.domain];
    return have || c().call('cx_pdev_create', owner ? c().call('cx_domain_of', owner) : 0, M[pdev + PCI_DEV.sbdf], pdev);
  },
  setOwner(cpdev: number, d: number): void { c().call('cx_pdev_set_owner', cpdev, d ? c().call('cx_domain_of', d) : 0); },
  free(cpdev: number): void { c().call('cx_pdev_free', cpdev); },
};

const unsupported = (what: string) => (): never => crash('bug', what, `${what} is not available under the C backend yet`);

const patch: Patch = {
  name,
  base: 'l21',
  replace: {
    vpci_read: () => (sbdf: number, reg: number, size: number) => c().call('x_vpci_read_as', current(), sbdf, reg, size) >>> 0,
    vpci_write: () => (sbdf: number, reg: number, size: number, data: number) => { c().call('x_vpci_write_as', current(), sbdf, reg | (size << 16), data >>> 0); },
    vpci_process_pending: () => (v: VcpuPtr) => c().call('x_vpci_process_pending_as', v) !== 0,
    vpci_add_handlers: () => (pdev: PciDevPtr) => c().call('x_vpci_add_handlers', devices.mirror(pdev), current()),
    vpci_remove_device: () => (pdev: PciDevPtr) => { c().call('x_vpci_remove_device', devices.mirror(pdev), current()); return 0; },
    pci_add_device: () => (sbdf: number) => pci_add_device(devices, sbdf),
    pci_remove_device: () => (sbdf: number) => pci_remove_device(devices, sbdf),
    assign_device: () => unsupported('assign_device') as (d: DomainPtr, sbdf: number) => number,
    deassign_device: () => unsupported('deassign_device') as (d: DomainPtr, sbdf: number) => number,
  },
};
export default patch;
