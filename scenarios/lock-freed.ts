// R3: a reader waits on pdev->vpci->lock while vpci_remove_device holds it to free the handlers; the remover
// unlocks and frees the struct the lock lives in, and the waiter then takes a lock inside freed memory.

import { defineScenario } from '../lib/scenario/scenario.js';

/** The L21 walk's own read of the freed node, in pci_get_pdev_by_domain (L21 pci.c:629). */
const WALK_L21 = { outcome: 'use-after-free', where: 'pci_get_pdev_by_domain' } as const;

export default defineScenario({
  name: 'lock-freed',
  description: 'a waiter on vpci->lock while vpci_remove_device frees the struct that holds the lock',
  source: 'A.17 R3; v6 cover letter 20220204063459.680961-1-andr2000@gmail.com',
  machine: { vcpus: [2], devices: 1 },
  actors: {
    d0v0(x) { x.remove(x.dev(0)); },
    d0v1(x) { x.write(x.dev(0), x.regs.PCI_COMMAND, 2, x.regs.PCI_COMMAND_MEMORY | x.regs.PCI_COMMAND_MASTER); x.resume(); },
  },
  expect: {
    // R3 (A.17): the writer queues on pdev->vpci->lock while vpci_remove_device holds it, then takes a lock inside
    // freed memory; or R2: it reads pdev->vpci (NULL or freed) or a freed pdev.
    baseline: {
      expected: [
        { outcome: 'use-after-free', where: 'spin_lock' },        // R3, the v6 cover letter's race
        { outcome: 'use-after-free', where: 'vpci_write' },       // R2
        { outcome: 'null-deref', where: 'vpci_write' },           // pdev->vpci already NULL (6ccb5e308c)
        { outcome: 'use-after-free', where: 'pci_get_pdev' },   // 4.17.5's walk (pci.c:551-554), named there by the compiled C
        WALK_L21,                                                 // R2: the unlocked lookup's walk (vpci.c:326/436, pci.c:629) on the freed node
      ],
      acceptable: ['ok'],
    },
    cancel: {
      expected: [                                                 // B.2 changes nothing for accesses
        { outcome: 'use-after-free', where: 'spin_lock' },
        { outcome: 'use-after-free', where: 'vpci_write' },
        { outcome: 'null-deref', where: 'vpci_write' },
        WALK_L21,                                                 // B.2: lookups untouched, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    'cancel-all': {
      expected: [                                                 // B.5: the lock moved to pdev, which is freed too
        { outcome: 'use-after-free', where: 'spin_lock' },
        { outcome: 'use-after-free', where: 'vpci_write' },
        WALK_L21,                                                 // B.5: the lookup takes no lock, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': {
      expected: [                                                 // B.4: vpci freed under the write lock, pdev is not
        { outcome: 'use-after-free', where: 'vpci_write' },       // R2: free_pdev outside the lock
        { outcome: 'null-deref', where: 'vpci_write' },           // no recheck of pdev->vpci
        WALK_L21,                                                 // B.4: free_pdev outside the write section, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    // C.2: vpci_write holds d->pci_lock write and vpci_deassign_device needs it too; but
    // issue 15 point 2: hwdom's lookup walks alldevs_list under hwdom->pci_lock only (pci.c:548-575, vpci.c:495-500) and
    // can return the pdev pci_remove_device has taken off hwdom's list; free_pdev frees it under pcidevs_lock alone (pci.c:460-466).
    // The walk's own read of the freed pdev is in pci_get_pdev (pci.c:548-575): the compiled C names it there.
    upstream: { expected: [{ outcome: 'use-after-free', where: 'vpci_write' }, { outcome: 'use-after-free', where: 'pci_get_pdev' }], acceptable: ['ok'] },
    'upstream-drain': { expected: ['ok'] },  // part 4: free_pdev under hwdom->pci_lock
  },
});
