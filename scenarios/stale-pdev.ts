// Derived in C.3: upstream's pending step rechecks pdev->vpci and pdev->domain under d->pci_lock, but it reads
// them through v->vpci.pdev, a raw pointer loaded before the lock (header.c:179) that nobody clears when
// pci_remove_device frees the pdev. A Dom0 vCPU turns
// decoding off (work deferred) while another removes the device.

import { defineScenario } from '../lib/scenario/scenario.js';

/** The L21 walk's own read of the freed node, in pci_get_pdev_by_domain (L21 pci.c:629). */
const WALK_L21 = { outcome: 'use-after-free', where: 'pci_get_pdev_by_domain' } as const;

export default defineScenario({
  name: 'stale-pdev',
  description: 'pending work for a device that PHYSDEVOP_pci_device_remove frees before the vCPU resumes',
  source: 'xen-vpci-model.md C.3 (derived)',
  machine: { vcpus: [2], devices: 1 },
  actors: {
    d0v0(x) { x.remove(x.dev(0)); x.resume(); },
    d0v1(x) { x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0); x.resume(); },
  },
  expect: {
    // d0v1's deferred unmap (and its config write) race PHYSDEVOP_pci_device_remove, which NULLs and frees
    // pdev->vpci and then frees pdev itself.
    baseline: {
      expected: [
        { outcome: 'null-deref', where: 'vpci_process_pending' }, // R1/R4 shape: pdev->vpci NULL
        { outcome: 'use-after-free', where: 'vpci_process_pending' }, // vpci or pdev freed under the step
        { outcome: 'use-after-free', where: 'spin_lock' },        // R3
        { outcome: 'null-deref', where: 'vpci_write' },           // C.5: the write after removal
        { outcome: 'use-after-free', where: 'vpci_write' },       // R2
        { outcome: 'use-after-free', where: 'pci_get_pdev' },   // 4.17.5's walk (pci.c:551-554), named there by the compiled C
        WALK_L21,                                                 // R2: the unlocked lookup's walk (vpci.c:326/436, pci.c:629) on the freed node
      ],
      acceptable: ['ok'],
    },
    cancel: {
      expected: [                                                 // B.2: cancels d0v0's slot, the work is in d0v1's
        { outcome: 'null-deref', where: 'vpci_process_pending' },
        { outcome: 'use-after-free', where: 'vpci_process_pending' },
        { outcome: 'use-after-free', where: 'spin_lock' },
        { outcome: 'null-deref', where: 'vpci_write' },
        { outcome: 'use-after-free', where: 'vpci_write' },
        WALK_L21,                                                 // B.2: lookups untouched, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    'cancel-all': {
      expected: [                                                 // B.5 (Roger): another vCPU's v->vpci read unprotected
        { outcome: 'use-after-free', where: 'vpci_process_pending' }, // pdev read from the slot before the cancel, freed after
        { outcome: 'use-after-free', where: 'spin_lock' },        // waiting on pdev->vpci_lock inside the freed pdev
        { outcome: 'use-after-free', where: 'vpci_write' },       // R2: pdev freed under the lookup
        WALK_L21,                                                 // B.5: the lookup takes no lock, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    pcidevs: { expected: ['ok'] },                                // §G S2: removal drains every slot under the lock
    'rwlock-trylock': {
      expected: [                                                 // B.4: no recheck, pdev freed outside the lock
        { outcome: 'use-after-free', where: 'vpci_process_pending' },
        { outcome: 'null-deref', where: 'vpci_process_pending' },
        { outcome: 'use-after-free', where: 'vpci_write' },
        { outcome: 'null-deref', where: 'vpci_write' },
        WALK_L21,                                                 // B.4: free_pdev outside the write section, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    // C.3 (derived): nothing clears other vCPUs' v->vpci.pdev when pci_remove_device frees the pdev; step 3 reads
    // pdev->vpci through that raw pointer.
    // HEAD loads the slot before taking the lock (header.c:179 vs 186): the copy outlives free_pdev. And
    // issue 15 point 2: hwdom's lookup walks alldevs_list under hwdom->pci_lock only (pci.c:548-575, vpci.c:495-500) and
    // can return the pdev pci_remove_device has taken off hwdom's list; free_pdev frees it under pcidevs_lock alone (pci.c:460-466).
    upstream: {
      // The walk's own read of the freed pdev is in pci_get_pdev (pci.c:548-575): the compiled C names it there.
      expected: [{ outcome: 'use-after-free', where: 'vpci_process_pending' }, { outcome: 'use-after-free', where: 'vpci_write' }, { outcome: 'use-after-free', where: 'pci_get_pdev' }],
      acceptable: ['ok'],
    },
    'upstream-drain': { expected: ['ok'] },   // slot loaded under the lock, every slot drained, free under hwdom's lock
  },
});
