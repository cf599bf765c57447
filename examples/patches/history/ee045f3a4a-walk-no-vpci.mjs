// Xen ee045f3a4a (Roger Pau Monné, 26 May 2023) "vpci/header: cope with devices not having vpci allocated",
// undone on Xen HEAD (c447b7308b): modify_bars as it would be without the fix.
//
// The bug: modify_bars checks the BARs it is about to map or unmap against the enabled BARs of every device of the
// owner (for_each_pdev, header.c:438-500) and read tmp->vpci->header.bars for each of them; a device of the domain
// without vpci made that a NULL dereference. The fix (header.c:442-448 at HEAD):
//     if ( !tmp->vpci )
//         /* ... devices assigned to it that are not handled by vPCI, either because those are read-only
//            devices, or because vPCI setup has failed. */
//         continue;
// This patch is HEAD's modify_bars (lib/xen/head/header.ts) with those lines removed: the same steps, the same
// helpers for the device's own BARs, the MSI-X table and PBA hole, the subtraction and the boot-time apply_map.
//
// How a device of the hardware domain has no vpci at HEAD: vPCI setup failed (vpci_assign_device -ENOMEM in
// deassign_device, pci.c:948-951), or the windows of assign_device and deassign_device, where the device is on
// hwdom's pdev_list with vPCI torn down or not yet set up (pci.c:1616-1650, 933-951, vtd/iommu.c:2804-2815). The
// scenario next to this file toggles another device's decoding in those windows.
//
//   vpci-lab verify examples/patches/history/ee045f3a4a-walk-no-vpci.scenario.mjs --strategy examples/patches/history/ee045f3a4a-walk-no-vpci.mjs
import {
  M, chk, NULL, ASSERT, DOMAIN, PCI_DEV, VPCI, fn, yield_point, SITE, dom_xen, hardware_domain, system_state, SYS_STATE_active, PCI_COMMAND_MEMORY,
  rw_is_write_locked, list_next, fill_own_bars, remove_msix_regions, subtract_device, apply_map,
} from 'vpci-lab/model';

/** modify_bars (header.c:308-519) before ee045f3a4a: every device of the owner is assumed to have vpci. */
function modify_bars(pdev, cmd, rom_only) {
  const where = 'modify_bars';
  const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
  const d = M[pdev + PCI_DEV.domain];
  ASSERT(rw_is_write_locked(chk(d, DOMAIN, where) + DOMAIN.pci_lock), where, 'rw_is_write_locked(&pdev->domain->pci_lock)');
  let rc = fill_own_bars(pdev, vpci, cmd, rom_only, where);
  if (!rc) rc = remove_msix_regions(vpci);                       // header.c:408-431
  if (rc) return rc;
  // header.c:438-500: the owner's devices, and for the hardware domain dom_xen's too (465217b0f8).
  for (let od = d !== dom_xen() ? d : hardware_domain(); ; od = dom_xen()) {
    for (let tmp = M[chk(od, DOMAIN, where) + DOMAIN.pdev_list]; tmp !== NULL; tmp = list_next(tmp, PCI_DEV.domain_next, where)) {
      yield_point(SITE['modify_bars:for_each_pdev']);
      chk(tmp, PCI_DEV, where);
      // header.c:442-448 (the fix) would skip a tmp with no vpci here.
      if (tmp === pdev && !rom_only) continue;
      rc = subtract_device(pdev, vpci, tmp, rom_only, where);    // tmp->vpci->header.bars[i]
      if (rc) return rc;
    }
    if (M[od + DOMAIN.is_hardware_domain] === 0) break;           // header.c:496-499
  }
  if (system_state() < SYS_STATE_active) {
    ASSERT((cmd & PCI_COMMAND_MEMORY) !== 0 && !rom_only, where, '(cmd & PCI_COMMAND_MEMORY) && !rom_only');
    return apply_map(d, pdev, cmd);
  }
  fn.defer_map(pdev, 0, cmd, rom_only);
  return 0;
}

export default {
  name: 'pre-ee045f3a4a',
  base: 'head',
  summary: 'Xen HEAD with ee045f3a4a undone: modify_bars reads tmp->vpci of every device of the owner',
  source: 'ee045f3a4a (May 2023), reverted on c447b7308b',
  replace: { modify_bars: () => modify_bars },
};
