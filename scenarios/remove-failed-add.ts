// Found by `hunt --backend c` on Debian's Xen 4.17.5 (and present in the late-2021 model alike): when vPCI setup
// fails in pci_add_device, the device stays on the segment's alldevs_list with pdev->domain = NULL (4.17.5
// pci.c:760-767; L21 the same); PHYSDEVOP_pci_device_remove then finds it and calls vpci_remove_device(pdev)
// (4.17.5 pci.c:818) whose first line is has_vpci(pdev->domain) (vpci.c:41): a read through NULL. 635dd1120a
// (Feb 2024, 4.19: "pci: fix locking around vPCI removal") moved the vPCI removal under `if ( pdev->domain )` for
// its own reason (a lock ASSERT) and so fixed this too; it is not in 4.17.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'remove-failed-add',
  description: 'Dom0 removes a device whose PHYSDEVOP_pci_device_add failed in vPCI setup (left with no owner)',
  source: 'L21 and 4.17.5 pci.c pci_add_device/pci_remove_device, vpci.c vpci_remove_device; HEAD 635dd1120a; found by hunt --backend c',
  machine: { vcpus: [1], devices: 1, boot: [] },
  actors: {
    d0v0(x) {
      x.failNext('init_msix');
      x.add(x.dev(0));
      x.resume();
      x.remove(x.dev(0));
      x.resume();
    },
  },
  expect: {
    // Every late-2021 strategy keeps pci_remove_device's unconditional vpci_remove_device(pdev).
    // Under verify's injected faults (--faults alloc): a failing xzalloc in alloc_pdev fails the add before the device
    // exists (pci.c alloc_pdev's NULL return, -ENOMEM), so the removal finds nothing (-ENODEV): ok.
    baseline: { expected: [{ outcome: 'null-deref', where: 'vpci_remove_device' }], acceptable: ['ok'] },
    cancel: { expected: [{ outcome: 'null-deref', where: 'vpci_remove_device' }], acceptable: ['ok'] },
    'cancel-all': { expected: [{ outcome: 'null-deref', where: 'vpci_remove_device' }], acceptable: ['ok'] },
    // S2 drains under pcidevs_lock and then runs Xen's removal, whose first read is still has_vpci(pdev->domain)
    // (examples/patches/pcidevs.patch renames it remove_device: the C reports it there).
    pcidevs: { expected: ['null-deref'], acceptable: ['ok'] },
    'rwlock-trylock': { expected: [{ outcome: 'null-deref', where: 'vpci_remove_device' }], acceptable: ['ok'] },
    // HEAD: vpci_deassign_device only `if ( pdev->domain )` (pci.c:876-882, 635dd1120a).
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
