// The C backend for Xen HEAD: a patch over the model's `head` generation whose vPCI entries are HEAD's compiled C
// (the addon named in this module's URL, ?addon=PATH&name=NAME). Two seams, kept apart so compiled pci.c can
// replace the second without touching the first:
//   - the entry points: vpci_read / vpci_write / vpci_process_pending (the guest's accesses and its return to the
//     guest), vpci_assign_device / vpci_deassign_device (called by pci.c under d->pci_lock), and
//     vpci_reinit_ext_capabilities (PHYSDEVOP_pci_mmcfg_reserved) go to the compiled C;
//   - the devices: pci.c's add / remove / assign / deassign / free_pdev stay the lab's TypeScript HEAD code, with C's
//     list operations at the same moments (lib/cxen/pci-head.ts, through CDevicesHead).
// What stays the lab's besides: guests and toolstack, hypercalls, the ECAM trap, hvm_do_resume, the p2m, the
// hardware, locks, scheduler, recorder and judge. The guest's MSI-X table accesses reach compiled msix.c through the
// lab's intercept (the handlers init_msix registered), and Xen's own mappings of those pages read the lab's device.

import { current } from '../xen/state.js';
import { cMachine, mirrorPdevHead, syncOwner, cDomain } from './cmachine.js';
import { pci_add_device, pci_remove_device, assign_device, deassign_device, free_pdev, type CDevicesHead } from './pci-head.js';
import type { Patch } from '../strategy/patch.js';
import type { PciDevPtr, VcpuPtr, DomainPtr, MmioData } from '../xen/types.js';

const params = new URL(import.meta.url).searchParams;
const name = params.get('name') ?? 'c';
const c = cMachine(params.get('addon') ?? '', { pciLock: true });

/** The devices seam: C's side of pci.c's bookkeeping (native/glue.c cx_pdev_*). */
const devices: CDevicesHead = {
  mirror: (pdev: PciDevPtr): number => mirrorPdevHead(c(), pdev),
  listAdd(cp: number, d: DomainPtr): void { c().call('cx_pdev_list_add', cp, cDomain(c(), d)); },
  listDel(cp: number): void { c().call('cx_pdev_list_del', cp); },
  setDomain(cp: number, d: DomainPtr): void { c().call('cx_pdev_set_domain', cp, cDomain(c(), d)); },
  delAlldevs(cp: number): void { c().call('cx_pdev_del_alldevs', cp); },
  free(cp: number): void { c().call('cx_pdev_xfree', cp); },
};

const patch: Patch = {
  name,
  base: 'head',
  replace: {
    // ---- the entry points: compiled C
    vpci_read: () => (sbdf: number, reg: number, size: number) => c().call('x_vpci_read_as', current(), sbdf, reg, size) >>> 0,
    vpci_write: () => (sbdf: number, reg: number, size: number, data: number) => { c().call('x_vpci_write_as', current(), sbdf, reg | (size << 16), data >>> 0); },
    vpci_process_pending: () => (v: VcpuPtr) => c().call('x_vpci_process_pending_as', v) !== 0,
    vpci_assign_device: () => (pdev: PciDevPtr) => {
      const cp = devices.mirror(pdev);
      const rc = c().call('x_vpci_assign_device', cp, current());
      syncOwner(c(), pdev, cp);          // setup_hwdom_pci_devices' swap (lib/lab/boot.ts) has no stand-in
      return rc;
    },
    vpci_deassign_device: () => (pdev: PciDevPtr) => { c().call('x_vpci_deassign_device', devices.mirror(pdev), current()); },
    vpci_reinit_ext_capabilities: () => (pdev: PciDevPtr) => c().call('x_vpci_reinit_ext_capabilities', devices.mirror(pdev), current()),
    // the MSI-X table MMIO the lab's intercept claims (lib/xen/intercept.ts): msix.c's registered handlers
    msix_accept: () => (v: VcpuPtr, addr: number) => c().call('x_msix_accept', v, addr) !== 0,
    msix_read: () => (v: VcpuPtr, addr: number, len: number, data: MmioData) => {
      const rc = c().call('x_msix_read', v, addr, len);
      data.lo = c().call('x_msix_data', 0) >>> 0;
      data.hi = c().call('x_msix_data', 1) >>> 0;
      return rc;
    },
    msix_write: () => (v: VcpuPtr, addr: number, len: number, data: MmioData) => c().call('x_msix_write', v, addr, len + 256 * (data.hi >>> 0), data.lo >>> 0),
    // ---- the devices: the lab's pci.c with C's list operations
    pci_add_device: () => (sbdf: number) => pci_add_device(devices, sbdf),
    pci_remove_device: () => (sbdf: number) => pci_remove_device(devices, sbdf),
    assign_device: () => (d: DomainPtr, sbdf: number) => assign_device(devices, d, sbdf),
    deassign_device: () => (d: DomainPtr, sbdf: number) => deassign_device(devices, d, sbdf),
    free_pdev: () => (pdev: PciDevPtr) => free_pdev(devices, pdev),
  },
};
export default patch;
