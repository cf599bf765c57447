// The C backend as the lab runs it: a patch over the late-2021 generation whose vPCI entries are Xen's compiled
// C (the addon named in this module's URL, ?addon=PATH&name=NAME), so every worker that installs the machine's
// strategy loads the same build. What stays the lab's: guests and toolstack (scenarios), hypercalls, the ECAM trap,
// hvm_do_resume, pci.c's add/remove (lib/cxen/pci.ts), the p2m, the hardware, locks, scheduler, recorder and judge.
// C's own struct domain / vcpu / pci_dev mirror the lab's (glue.c, lib/cxen/cmachine.ts).

import { crash } from '../mem/crash.js';
import { current } from '../xen/state.js';
import { cMachine, mirrorPdev, cDomain } from './cmachine.js';
import { pci_add_device, pci_remove_device, type CDevices } from './pci.js';
import type { Patch } from '../strategy/patch.js';
import type { PciDevPtr, VcpuPtr, DomainPtr } from '../xen/types.js';

const params = new URL(import.meta.url).searchParams;
const name = params.get('name') ?? 'c';
const c = cMachine(params.get('addon') ?? '', { pciLock: false });

const devices: CDevices = {
  mirror: (pdev: PciDevPtr): number => mirrorPdev(c(), pdev),
  setOwner(cpdev: number, d: number): void { c().call('cx_pdev_set_owner', cpdev, cDomain(c(), d)); },
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
