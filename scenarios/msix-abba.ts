// Late-2021 lock order, derived from vmsi.c L21 849-885: enabling MSI-X with an updated, unmasked entry runs
// update_entry -> vpci_msix_arch_enable_entry, which takes pcidevs_lock (vmsi.c L21 862) while control_write's caller
// (vpci_write) holds vpci->lock; PHYSDEVOP_pci_device_remove takes pcidevs_lock, then vpci->lock in
// vpci_remove_device (vpci.c L21 43). 4f78438b45 dropped pcidevs_lock from the arch hooks: at HEAD they assert
// d->pci_lock (vmsi.c:1007), which vpci_write and msix_write take before vpci->lock, as removal does after pcidevs_lock.

import { defineScenario } from '../lib/scenario/scenario.js';

/** The L21 walk's own read of the freed node, in pci_get_pdev_by_domain (L21 pci.c:629). */
const WALK_L21 = { outcome: 'use-after-free', where: 'pci_get_pdev_by_domain' } as const;

export default defineScenario({
  name: 'msix-abba',
  description: 'MSI-X enable (vpci->lock then pcidevs_lock in the arch hook) against device removal (the reverse)',
  source: 'vmsi.c L21 849-885 (pcidevs_lock in vpci_msix_arch_enable_entry); 4f78438b45 removed it (vmsi.c:1001-1024)',
  machine: { vcpus: [2], devices: 1, msix: true },
  actors: {
    d0v0(x) { x.remove(x.dev(0)); },
    d0v1(x) {
      const dev = x.dev(0), pos = 0x40;                                          // MSIX_CAP_POS (lib/hw/desc.ts)
      x.msixWrite(dev, 0, x.regs.PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, 0xfee00000);   // updated
      x.msixWrite(dev, 0, x.regs.PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, 0);            // unmasked, MSI-X still off
      x.write(dev, pos + x.regs.PCI_MSIX_FLAGS, 2, x.regs.PCI_MSIX_FLAGS_ENABLE);  // control_write -> update_entry
    },
  },
  expect: {
    // The inversion is the point. Around it, the removal races the same accesses as msix-race and lock-freed do.
    baseline: {
      expected: [
        'deadlock',                                          // vpci->lock -> pcidevs_lock against the reverse
        { outcome: 'use-after-free', where: 'msix_find' },   // the freed table left on the list (c14aea137e)
        { outcome: 'use-after-free', where: 'msix_write' },
        { outcome: 'use-after-free', where: 'get_entry' },   // the same read in compiled msix.c's get_entry (4.17.5 msix.c:182-188)
        { outcome: 'use-after-free', where: 'spin_lock' },   // R3 on vpci->lock
        { outcome: 'use-after-free', where: 'vpci_write' },  // R2
        { outcome: 'null-deref', where: 'vpci_write' },      // C.5: pdev->vpci already NULL
        { outcome: 'use-after-free', where: 'pci_get_pdev' },  // 4.17.5's walk (pci.c:551-554), as the compiled C names it
        WALK_L21,                                            // R2: the unlocked lookup's walk (vpci.c:436, pci.c:629) on the freed node
      ],
      acceptable: ['ok'],
    },
    cancel: {                                                // B.2 changes neither lock order nor accesses
      expected: [
        'deadlock',
        { outcome: 'use-after-free', where: 'msix_find' },
        { outcome: 'use-after-free', where: 'msix_write' },
        { outcome: 'use-after-free', where: 'get_entry' },   // the same read in compiled msix.c's get_entry (4.17.5 msix.c:182-188)
        { outcome: 'use-after-free', where: 'spin_lock' },
        { outcome: 'use-after-free', where: 'vpci_write' },
        { outcome: 'null-deref', where: 'vpci_write' },
        WALK_L21,                                            // B.2: lookups untouched, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    'cancel-all': {                                          // B.5: the same inversion on pdev->vpci_lock
      expected: [
        'deadlock',
        { outcome: 'use-after-free', where: 'msix_find' },
        { outcome: 'use-after-free', where: 'msix_write' },
        { outcome: 'use-after-free', where: 'get_entry' },   // the same read in compiled msix.c's get_entry (4.17.5 msix.c:182-188)
        { outcome: 'use-after-free', where: 'spin_lock' },   // msix.c still locks vpci->lock, freed unlocked
        { outcome: 'use-after-free', where: 'vpci_write' },  // the pdev is freed too
        WALK_L21,                                            // B.5: the lookup takes no lock, the walk as baseline's
      ],
      acceptable: ['ok'],
    },
    // pcidevs_lock is taken first around config writes and the intercept (recursive inside): no inversion.
    pcidevs: { expected: [{ outcome: 'use-after-free', where: 'msix_find' }], acceptable: ['ok'] },
    'rwlock-trylock': {                                      // B.4: removal frees handlers under vpci->lock while
      expected: [                                            // holding pcidevs_lock, as L21
        'deadlock',
        { outcome: 'use-after-free', where: 'msix_find' },
        { outcome: 'use-after-free', where: 'vpci_write' },  // R2: free_pdev outside the lock
        { outcome: 'null-deref', where: 'vpci_write' },      // no recheck of pdev->vpci
      ],
      acceptable: ['ok'],
    },
    // HEAD: the arch hooks take no pcidevs_lock (4f78438b45), so no deadlock; cleanup_msix unlinks the table under
    // the write lock, so msix_find never meets it freed. What stays is lock-freed's race (issue 15 point 2): the
    // enabling vpci_write, after the removal dropped d->pci_lock, finds the pdev on alldevs_list under hwdom's
    // pci_lock only (pci.c:548-575, vpci.c:619-624) while free_pdev unlinks and frees it under pcidevs_lock alone
    // (pci.c:460-466).
    // The walk's own read of the freed pdev is in pci_get_pdev (pci.c:548-575): the compiled C names it there.
    upstream: { expected: [{ outcome: 'use-after-free', where: 'vpci_write' }, { outcome: 'use-after-free', where: 'pci_get_pdev' }], acceptable: ['ok'] },
    'upstream-drain': { expected: ['ok'] },                  // part 4: free_pdev under hwdom->pci_lock
  },
});
