// Found by hunt (upstream and upstream-drain; no race): pci_add_device's failure path at HEAD takes the device off
// its owner but leaves it on the segment's alldevs_list with pdev->domain NULL (pci.c:793-796), and
// PHYSDEVOP_pci_device_reset finds it there (pci_get_pdev(NULL, sbdf), physdev.c:97) and takes
// write_lock(&pdev->domain->pci_lock) (physdev.c:105) with no check. Dom0 only: a failed add followed by a reset of
// the same device, which a Dom0 kernel retrying a device it could not add may well do.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'reset-failed-add',
  description: 'Dom0 resets a device whose PHYSDEVOP_pci_device_add failed (left on alldevs_list, no owner)',
  source: 'HEAD pci.c:793-796, drivers/pci/physdev.c:71-123; found by hunt',
  machine: { vcpus: [1], devices: 1, boot: [] },
  actors: {
    d0v0(x) {
      x.failNext('iommu');
      x.add(x.dev(0));
      x.resume();
      x.reset(x.dev(0));
      x.resume();
    },
  },
  expect: {
    // Under verify's injected faults the add may fail before it defers any map (alloc_pdev's or vpci_add_handlers'
    // xzalloc, -ENOMEM: no pending work, or no device at all for the reset to find): ok, in every generation.
    // Late 2021 (no reset: -ENOSYS): the failed add is crash path 1 on one vCPU (A.17 R1), as in crash-path-1.
    baseline: { expected: [{ outcome: 'null-deref', where: 'vpci_process_pending' }], acceptable: ['ok'] },
    cancel: { expected: ['ok'] },                                 // B.2: the work is in current's own slot
    'cancel-all': { expected: ['ok'] },                           // B.5
    pcidevs: { expected: ['ok'] },                                // §G S2
    'rwlock-trylock': { expected: [{ outcome: 'null-deref', where: 'vpci_process_pending' }], acceptable: ['ok'] }, // §G S3: no recheck
    // HEAD: the pending step sees pdev->vpci NULL and drops the work (C.2); the reset then locks through NULL.
    upstream: { expected: [{ outcome: 'null-deref', where: 'PHYSDEVOP_pci_device_reset' }], acceptable: ['ok'] },
    'upstream-drain': { expected: [{ outcome: 'null-deref', where: 'PHYSDEVOP_pci_device_reset' }], acceptable: ['ok'] },
  },
});
