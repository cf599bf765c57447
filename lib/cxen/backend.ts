// The C backend as the lab runs it: a patch over the late-2021 generation whose vPCI entries are Xen's compiled
// C (the addon named in this module's URL, ?addon=PATH&name=NAME), so every worker that installs the machine's
// strategy loads the same build. pci.c's add, remove, assign and deassign are Xen's compiled code too
// (native/pci-entries.c): devices exist only as C's struct pci_dev, on C's lists. What stays the lab's: guests and
// toolstack (scenarios), hypercalls and their pcidevs_lock, the ECAM trap, hvm_do_resume, the IOMMU (its fault
// points), the p2m, the hardware, locks, scheduler, recorder and judge. C's own struct domain / vcpu mirror the
// lab's (glue.c, lib/cxen/cmachine.ts). The guest's MSI-X table accesses reach compiled msix.c through the lab's
// intercept (native/msix-mmio.c), and the stale-mapping scan reads C's structs (lib/cxen/scan.ts).

import { crash } from '../mem/crash.js';
import { cMachine, compiledEntries, compiledMsix } from './cmachine.js';
import type { Patch } from '../strategy/patch.js';
import { registerDeviceSource } from '../strategy/devices.js';
import { cDevices } from './scan.js';

const params = new URL(import.meta.url).searchParams;
const name = params.get('name') ?? 'c';
const addon = params.get('addon') ?? '';
const c = cMachine(addon, { pciLock: false, pciC: true });

const unsupported = (name: string, why: string) => (): never => crash('bug', name, `${name}: ${why}`);

const patch: Patch = {
  name,
  base: 'l21',
  replace: {
    ...compiledEntries(c),
    // the MSI-X table MMIO the lab's intercept claims: msix.c's registered handlers (native/msix-mmio.c)
    ...compiledMsix(c),
    // The lab's TypeScript devices do not exist under C: whatever would hand one to vPCI is the lab's bug.
    vpci_add_handlers: () => unsupported('vpci_add_handlers', 'given a TypeScript pci_dev under the C backend'),
    vpci_remove_device: () => unsupported('vpci_remove_device', 'given a TypeScript pci_dev under the C backend'),
  },
};
// The stale-mapping scan reads C's structs: under C no device is the model's.
registerDeviceSource(patch, cDevices(addon));
export default patch;
