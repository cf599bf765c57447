// xen/drivers/vpci/cap.c at HEAD (c447b7308b): the capability array vpci_assign_device and vpci_deassign_device run
// (vpci.c:105, 162). The lab's devices have one capability, MSI-X, and its array entry is init_msix / cleanup_msix
// (msix.c:808); MSI and the extended capabilities are not modelled, nor is the emulated capability list
// (vpci_init_capability_list, vpci_capability_hide): a capability whose init failed stays visible, its control
// register read-only for the hardware domain and unhandled (all-ones for a DomU) as cleanup_msix leaves it.

import { M } from '../../mem/machine.js';
import { chk } from '../../mem/heap.js';
import { PCI_CAP_ID_MSIX } from '../../hw/pci_regs.js';
import { DOMAIN, PCI_DEV } from '../types.js';
import { fn } from '../fn.js';
import { pci_find_cap_offset } from '../pci.js';
import type { PciDevPtr } from '../types.js';

/** vpci_init_capabilities(pdev, false) (cap.c:288-359), over the one legacy capability modelled. */
export function vpci_init_capabilities(pdev: PciDevPtr): number {
  const where = 'vpci_init_capabilities';
  if (!pci_find_cap_offset(M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf], PCI_CAP_ID_MSIX)) return 0;
  let rc = fn.init_msix(pdev);
  if (!rc) return 0;
  // "init legacy cap fail, mask it" (cap.c:320-337): clean up and keep the device.
  rc = fn.cleanup_msix(pdev, true);
  if (rc && !M[chk(M[pdev + PCI_DEV.domain], DOMAIN, where) + DOMAIN.is_hardware_domain]) return rc;
  return 0;                                   // vpci_capability_hide: not modelled (see above)
}

/** vpci_cleanup_capabilities(pdev, false) (cap.c:361-390). */
export function vpci_cleanup_capabilities(pdev: PciDevPtr): void {
  if (pci_find_cap_offset(M[chk(pdev, PCI_DEV, 'vpci_cleanup_capabilities') + PCI_DEV.sbdf], PCI_CAP_ID_MSIX)) {
    fn.cleanup_msix(pdev, false);             // rc only printed (cap.c:382-387)
  }
}
