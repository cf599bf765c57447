// Seed crash path 3 (R2/R3): a guest config access while PHYSDEVOP_pci_device_remove frees pdev->vpci (and then
// pdev): vpci_read finds the device with no lock and dereferences what removal freed or NULLed.

import { defineScenario } from '../lib/scenario/scenario.js';

/** The L21 walk's own read of the freed node, in pci_get_pdev_by_domain (L21 pci.c:629). */
const WALK_L21 = { outcome: 'use-after-free', where: 'pci_get_pdev_by_domain' } as const;

export default defineScenario({
  name: 'crash-path-3',
  description: 'guest vpci_read/vpci_write racing PHYSDEVOP_pci_device_remove',
  source: 'seed crash path 3; A.17 R2, R3',
  machine: { vcpus: [2], devices: 1 },
  actors: {
    d0v0(x) { x.remove(x.dev(0)); x.resume(); },
    d0v1(x) {
      for (let i = 0; i < 3; i++) { x.read(x.dev(0), x.regs.PCI_VENDOR_ID, 4); x.resume(); }
    },
  },
  expect: {
    // R2/R3 (A.17): vpci_read finds the device with no lock; removal NULLs and frees pdev->vpci, then frees pdev.
    baseline: {
      expected: [
        { outcome: 'null-deref', where: 'vpci_read' },            // seed path 3: pdev->vpci NULL after removal
        { outcome: 'use-after-free', where: 'vpci_read' },        // R2: vpci or pdev freed under the access
        { outcome: 'use-after-free', where: 'spin_lock' },        // R3: waiting on vpci->lock while removal frees it
        { outcome: 'use-after-free', where: 'pci_get_pdev' },   // 4.17.5's walk (pci.c:551-554), named there by the compiled C
        WALK_L21,                                                 // R2: the unlocked lookup's walk (vpci.c:326/436, pci.c:629) on the freed node
      ],
      acceptable: ['ok'],                                         // reads wholly before or after removal
    },
    cancel: {
      expected: [                                                 // B.2: cancelling pending work does not touch reads
        { outcome: 'null-deref', where: 'vpci_read' },
        { outcome: 'use-after-free', where: 'vpci_read' },
        { outcome: 'use-after-free', where: 'spin_lock' },
        WALK_L21,                                                 // B.2: lookups untouched, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    'cancel-all': {
      expected: [                                                 // B.5: the lock survives vpci, not pdev
        { outcome: 'use-after-free', where: 'vpci_read' },        // R2: pdev freed by pci_remove_device
        { outcome: 'use-after-free', where: 'spin_lock' },        // pdev->vpci_lock lies in the freed pdev
        WALK_L21,                                                 // B.5: the lookup takes no lock, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    pcidevs: { expected: ['ok'] },                                // §G S2: reads and removal under pcidevs_lock
    'rwlock-trylock': {
      expected: [                                                 // B.4: the rwlock guards vpci's free, not pdev's
        { outcome: 'use-after-free', where: 'vpci_read' },        // R2: free_pdev is outside the write lock
        { outcome: 'null-deref', where: 'vpci_read' },            // no recheck of pdev->vpci after read_lock
        WALK_L21,                                                 // B.4: free_pdev outside the write section, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    // issue 15 point 2: hwdom's lookup walks alldevs_list under hwdom->pci_lock only (pci.c:548-575, vpci.c:495-500) and
    // can return the pdev pci_remove_device has taken off hwdom's list; free_pdev frees it under pcidevs_lock alone (pci.c:460-466).
    // The walk's own read of the freed pdev is in pci_get_pdev (pci.c:548-575): the compiled C names it there.
    upstream: { expected: [{ outcome: 'use-after-free', where: 'vpci_read' }, { outcome: 'use-after-free', where: 'pci_get_pdev' }], acceptable: ['ok'] },
    'upstream-drain': { expected: ['ok'] },  // part 4: free_pdev under hwdom->pci_lock
  },
});
