// The C backend as the lab runs it: a patch over the late-2021 generation whose vPCI entries are Xen's compiled
// C (the addon named in this module's URL, ?addon=PATH&name=NAME), so every worker that installs the machine's
// strategy loads the same build. pci.c's add, remove, assign and deassign are Xen's compiled code too
// (native/pci-entries.c): devices exist only as C's struct pci_dev, on C's lists. What stays the lab's: guests and
// toolstack (scenarios), hypercalls and their pcidevs_lock, the ECAM trap, hvm_do_resume, the IOMMU (its fault
// points), the p2m, the hardware, locks, scheduler, recorder and judge. C's own struct domain / vcpu mirror the
// lab's (glue.c, lib/cxen/cmachine.ts).

import { M } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { XEN, xen, current } from '../xen/state.js';
import { cMachine } from './cmachine.js';
import type { Patch } from '../strategy/patch.js';
import type { VcpuPtr, DomainPtr } from '../xen/types.js';

const params = new URL(import.meta.url).searchParams;
const name = params.get('name') ?? 'c';
const c = cMachine(params.get('addon') ?? '', { pciLock: false, pciC: true });

/** pci.c's compiled entry; a success counts as the model's does (campaign totals). */
function counted(rc: number, slot: number): number {
  if (rc === 0) Atomics.add(M, xen(slot), 1);
  return rc;
}
const unsupported = (name: string, why: string) => (): never => crash('bug', name, `${name}: ${why}`);

const patch: Patch = {
  name,
  base: 'l21',
  replace: {
    vpci_read: () => (sbdf: number, reg: number, size: number) => c().call('x_vpci_read_as', current(), sbdf, reg, size) >>> 0,
    vpci_write: () => (sbdf: number, reg: number, size: number, data: number) => { c().call('x_vpci_write_as', current(), sbdf, reg | (size << 16), data >>> 0); },
    vpci_process_pending: () => (v: VcpuPtr) => c().call('x_vpci_process_pending_as', v) !== 0,
    // The lab's TypeScript devices do not exist under C: whatever would hand one to vPCI is the lab's bug.
    vpci_add_handlers: () => unsupported('vpci_add_handlers', 'given a TypeScript pci_dev under the C backend'),
    vpci_remove_device: () => unsupported('vpci_remove_device', 'given a TypeScript pci_dev under the C backend'),
    pci_add_device: () => (sbdf: number) => counted(c().call('x_pci_add_device', sbdf, current()), XEN.adds),
    pci_remove_device: () => (sbdf: number) => counted(c().call('x_pci_remove_device', sbdf, current()), XEN.removes),
    assign_device: () => (d: DomainPtr, sbdf: number) => c().call('x_assign_device', d, sbdf, current()),
    deassign_device: () => (d: DomainPtr, sbdf: number) => c().call('x_deassign_device', d, sbdf, current()),
  },
};
export default patch;
