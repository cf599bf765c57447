// Issue 15 point 2: for the hardware domain, HEAD's pci_get_pdev walks the segment's alldevs_list (pci.c:548-575)
// while vpci_read holds only hwdom->pci_lock (vpci.c:495-500); pci_remove_device frees the pdev in free_pdev
// (pci.c:460-466) under pcidevs_lock alone, after its d->pci_lock section. A Dom0 read of device 0 walks past
// device 1 (alldevs_list is 1, 0: list_add at the head, pci.c:348) while another Dom0 vCPU removes device 1.

import { defineScenario } from '../lib/scenario/scenario.js';

/** The L21 walk's own read of the freed node, in pci_get_pdev_by_domain (L21 pci.c:629). */
const WALK_L21 = { outcome: 'use-after-free', where: 'pci_get_pdev_by_domain' } as const;

export default defineScenario({
  name: 'alldevs-walk',
  description: 'a Dom0 config read walks alldevs_list past a device PHYSDEVOP_pci_device_remove frees',
  source: 'issue 15 point 2; HEAD pci.c:548-575, 460-466; vpci.c:495-500',
  machine: { vcpus: [2], devices: 2 },
  actors: {
    d0v0(x) { x.remove(x.dev(1)); x.resume(); },
    d0v1(x) { x.read(x.dev(0), x.regs.PCI_VENDOR_ID, 4); x.resume(); },
  },
  expect: {
    // A.17 R2: the L21 lookup walks alldevs_list with no lock at all (vpci.c:326 calls pci_get_pdev_by_domain, whose
    // walk is pci.c:629) while pci_remove_device frees device 1 under pcidevs_lock (pci.c:889-901, free_pdev
    // 499-501): the walker reads the node it stands on after the free, in pci_get_pdev_by_domain.
    // Debian's 4.17.5 (the C backend judged as baseline) looks up the same way; its walk is pci_get_pdev's (pci.c:551-554),
    // the one function since a37f9ea7a6 (Aug 2022) folded pci_get_pdev_by_domain into it.
    baseline: { expected: [{ outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21, { outcome: 'use-after-free', where: 'pci_get_pdev' }], acceptable: ['ok'] },
    cancel: { expected: [{ outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21], acceptable: ['ok'] },      // B.2: lookups untouched
    'cancel-all': { expected: [{ outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21], acceptable: ['ok'] }, // B.5: per-device lock only
    pcidevs: { expected: ['ok'] },                                   // §G S2: lookup and free both under pcidevs_lock
    // §G S3: the lookup is under d->vpci_rwlock read, but free_pdev runs after the write section
    'rwlock-trylock': { expected: [{ outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21], acceptable: ['ok'] },
    // HEAD: hwdom->pci_lock read does not cover alldevs_list, which free_pdev changes under pcidevs_lock only.
    // The walk's own read of the freed pdev is in pci_get_pdev (pci.c:548-575): the compiled C names it there.
    upstream: { expected: [{ outcome: 'use-after-free', where: 'vpci_read' }, { outcome: 'use-after-free', where: 'pci_get_pdev' }], acceptable: ['ok'] },
    'upstream-drain': { expected: ['ok'] },                          // part 4: free_pdev under hwdom->pci_lock write
  },
});
