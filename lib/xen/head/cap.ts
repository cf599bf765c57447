// xen/drivers/vpci/cap.c at HEAD (c447b7308b): the capability array vpci_assign_device and vpci_deassign_device
// run (vpci.c:105, 162). The array is link order (drivers/vpci/Makefile: rebar.o, msi.o, msix.o): REBAR is an
// extended capability, which the lab's conventional devices lack, then MSI (msi.c:334), then MSI-X (msix.c:808).
// A capability whose init fails is cleaned up and hidden from the emulated list (lib/xen/head/cap-list.ts), for a
// DomU as for Dom0: the device fails only when the cleanup fails for a DomU, or the hide fails.

import { M } from '../../mem/machine.js';
import { chk, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { PCI_CFG_SPACE_SIZE, PCI_CFG_SPACE_EXP_SIZE } from '../../hw/pci_regs.js';
import { hardware_domain } from '../state.js';
import { PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX } from '../../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, ENOMEM } from '../types.js';
import { fn } from '../fn.js';
import { pci_find_cap_offset } from '../pci.js';
import { init_fault_point, VPCI_INIT } from '../fault.js';
import type { PciDevPtr, VpciPtr } from '../types.js';

/** __start_vpci_array's legacy entries (REGISTER_VPCI_CAP): id, init, cleanup. */
const CAPABILITIES = [
  { id: PCI_CAP_ID_MSI, init: 'init_msi', cleanup: 'cleanup_msi' },
  { id: PCI_CAP_ID_MSIX, init: 'init_msix', cleanup: 'cleanup_msix' },
] as const;

/**
 * Each init call is a fault point (`--faults init`, `x.failNext('init_msi')`): its -ENOMEM before it runs, keyed
 * by the hook's index in late 2021's order so one name means one hook in both generations.
 */
export const faultIndex = (init: string): number => (VPCI_INIT as readonly string[]).indexOf(init);

/** vpci_init_capabilities(pdev, false) (cap.c:288-359). */
export function vpci_init_capabilities(pdev: PciDevPtr): number {
  const where = 'vpci_init_capabilities';
  const sbdf = M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
  let rc = fn.vpci_init_capability_list(pdev);
  if (rc) return rc;
  // vpci_init_ext_capability_list (cap.c:244-286): !pdev->ext_cfg for the lab's devices, so 0.
  for (const capability of CAPABILITIES) {
    if (!pci_find_cap_offset(sbdf, capability.id)) continue;
    rc = init_fault_point(faultIndex(capability.init)) ? ENOMEM : fn[capability.init](pdev);
    if (!rc) continue;
    // "init legacy cap fail, mask it" (cap.c:321-325)
    rc = fn[capability.cleanup](pdev, true);
    if (rc && !M[chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], DOMAIN, where) + DOMAIN.is_hardware_domain]) return rc;
    rc = fn.vpci_capability_hide(pdev, capability.id);
    if (rc) return rc;                             // not ext_only: no best effort (cap.c:343-350)
  }
  return 0;
}

/** vpci_cleanup_capabilities(pdev, false) (cap.c:361-390): every present capability's cleanup, rc only printed. */
export function vpci_cleanup_capabilities(pdev: PciDevPtr): void {
  const sbdf = M[chk(pdev, PCI_DEV, 'vpci_cleanup_capabilities') + PCI_DEV.sbdf];
  for (const capability of CAPABILITIES) {
    if (pci_find_cap_offset(sbdf, capability.id)) fn[capability.cleanup](pdev, false);
  }
}

/**
 * vpci_reinit_ext_capabilities (cap.c:392-410, d734babf8b), from PHYSDEVOP_pci_mmcfg_reserved for every device of the
 * segment (physdev.c:168-188) with pcidevs_lock held and no d->pci_lock: pdev->vpci is read twice (394, 404) with
 * nothing keeping it alive in between. ASSERT(pdev->domain == hardware_domain) (402) holds for Dom0's own devices
 * only: a hidden device has a vpci and belongs to dom_xen (465217b0f8), a DomU's device under
 * CONFIG_HAS_VPCI_GUEST_SUPPORT belongs to the DomU. The registers removed are the extended ones (0x100-0xfff);
 * vpci_cleanup_capabilities(pdev, true) and vpci_init_capabilities(pdev, true) then have nothing to do for the lab's
 * conventional PCI devices (no extended capability; pci_check_extcfg leaves ext_cfg false, pci.c:1056-1081).
 */
export function vpci_reinit_ext_capabilities(pdev: PciDevPtr): number {
  const where = 'vpci_reinit_ext_capabilities';
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] === NULL) return 0;
  yield_point(SITE.vpci_reinit_ext_capabilities);
  ASSERT(() => M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] === hardware_domain(), where, 'pdev->domain == hardware_domain');
  const vpci = M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] as VpciPtr;
  if (fn.vpci_remove_registers(vpci, PCI_CFG_SPACE_SIZE, PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE)) ASSERT(false, where, 'unreachable');
  return 0;
}
