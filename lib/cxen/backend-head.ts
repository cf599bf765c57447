// The C backend for Xen HEAD: a patch over the model's `head` generation whose vPCI entries and pci.c are HEAD's
// compiled C (the addon named in this module's URL, ?addon=PATH&name=NAME):
//   - the entry points: vpci_read / vpci_write / vpci_process_pending (the guest's accesses and its return to the
//     guest) go to the compiled vPCI files;
//   - the devices: pci.c's add / remove / assign / deassign (and free_pdev, vpci_assign_device / vpci_deassign_device
//     under them) are HEAD's compiled pci.c (native/pci-entries.c): devices exist only as C's struct pci_dev;
//   - PHYSDEVOP_pci_device_reset and PHYSDEVOP_pci_mmcfg_reserved run as C (pci-entries.c: the physdev sub-ops'
//     steps, transliterated, over the compiled pci.c and vPCI).
// What stays the lab's besides: guests and toolstack, hypercalls and pcidevs_lock, the ECAM trap, hvm_do_resume,
// the IOMMU (its fault points), the p2m, the hardware, locks, scheduler, recorder and judge. The guest's MSI-X table
// accesses reach compiled msix.c through the lab's intercept (the handlers init_msix registered), and Xen's own
// mappings of those pages read the lab's device.

import { M } from '../mem/machine.js';
import { crash } from '../mem/crash.js';
import { current } from '../xen/state.js';
import { PCI_DEV } from '../xen/types.js';
import { cMachine, compiledEntries, compiledMsix } from './cmachine.js';
import type { Patch } from '../strategy/patch.js';
import { registerDeviceSource } from '../strategy/devices.js';
import { cDevices } from './scan.js';
import type { PciDevPtr } from '../xen/types.js';

const params = new URL(import.meta.url).searchParams;
const name = params.get('name') ?? 'c';
const addon = params.get('addon') ?? '';
const c = cMachine(addon, { pciLock: true, pciC: true });

const unsupported = (fn: string) => (): never => crash('bug', fn, `${fn}: given a TypeScript pci_dev under the C backend`);

const patch: Patch = {
  name,
  base: 'head',
  replace: {
    // ---- the entry points: compiled C
    ...compiledEntries(c),
    // The lab's boot (lib/lab/boot.ts hideDevice) holds the hardware domain's pci_lock for a hidden device's vPCI.
    vpci_assign_device: () => (pdev: PciDevPtr) => c().call('x_vpci_assign_hidden', M[pdev + PCI_DEV.sbdf], current()),
    vpci_deassign_device: () => unsupported('vpci_deassign_device'),
    vpci_reinit_ext_capabilities: () => unsupported('vpci_reinit_ext_capabilities'),
    ...compiledMsix(c),
    // ---- the devices: compiled pci.c
    free_pdev: () => unsupported('free_pdev'),
    physdev_pci_device_reset: () => (sbdf: number) => c().call('x_pci_device_reset', sbdf, current()),
    physdev_pci_mmcfg_reserved: () => () => c().call('x_pci_mmcfg_reserved', current()),
  },
};
// The stale-mapping scan reads C's structs: under C no device is the model's.
registerDeviceSource(patch, cDevices(addon));
export default patch;
