// A device Xen hides (pci_hide_device: a PCI serial card for Xen's console) belongs to dom_xen, yet at HEAD the
// hardware domain's vPCI covers it: vpci_read/vpci_write look it up on dom_xen's pdev_list holding only hwdom's
// pci_lock ("acquiring hwdom's pci_lock is sufficient", vpci.c:488-490, 612-617), while pci_remove_device takes the
// owner's lock — dom_xen's (pci.c:876-881) — and free_pdev frees the pdev under pcidevs_lock alone (pci.c:460-466).
// Dom0 removing the device (PHYSDEVOP_pci_device_remove has no check for dom_xen's devices) against its own read.

import { defineScenario } from '../lib/scenario/scenario.js';

/** The L21 walk's own read of the freed node, in pci_get_pdev_by_domain (L21 pci.c:629). */
const WALK_L21 = { outcome: 'use-after-free', where: 'pci_get_pdev_by_domain' } as const;

export default defineScenario({
  name: 'hidden-device',
  description: 'Dom0 reads a hidden (dom_xen) device through vPCI while another Dom0 vCPU removes it',
  source: 'vpci.c:488-503 (HEAD), pci.c:468-476, 834-891; 465217b0f8',
  machine: { vcpus: [2], devices: 2, boot: [0], hidden: [1] },
  actors: {
    d0v0(x) { x.remove(x.dev(1)); },
    d0v1(x) {
      const { PCI_COMMAND } = x.regs;
      for (let i = 0; i < 2; i++) x.read(x.dev(1), PCI_COMMAND, 2);
    },
  },
  expect: {
    // Late 2021: hwdom's lookup (pci_get_pdev_by_domain(hwdom), L21 vpci.c:326) never finds a dom_xen device, so the
    // reads go to hardware; the removal frees the pdev under pcidevs_lock (pci.c:889-901, free_pdev 499-501) while
    // the unlocked alldevs_list walk (pci.c:629) may stand on it (R2, the same walk crash-path-3 shows): read after
    // the free in pci_get_pdev_by_domain.
    // Debian's 4.17.5 (the C backend judged as baseline): the walk is pci_get_pdev's (pci.c:551-554), named there
    // (a37f9ea7a6, Aug 2022, folded pci_get_pdev_by_domain into pci_get_pdev).
    baseline: { expected: ['ok', { outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21, { outcome: 'use-after-free', where: 'pci_get_pdev' }] },
    cancel: { expected: ['ok', { outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21] },         // B.2: lookups untouched
    'cancel-all': { expected: ['ok', { outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21] },   // B.5: per-device lock only
    pcidevs: { expected: ['ok'] },                               // §G S2: the lookup under pcidevs_lock
    // §G S3: the lookup under d->vpci_rwlock read; free_pdev after the write section
    'rwlock-trylock': { expected: ['ok', { outcome: 'use-after-free', where: 'vpci_read' }, WALK_L21] },
    // HEAD: the reader holds hwdom->pci_lock, the remover dom_xen->pci_lock then pcidevs_lock alone for free_pdev:
    // the pdev the read found (on dom_xen's list, or still on alldevs_list) is freed under it.
    upstream: {
      expected: [
        { outcome: 'use-after-free', where: 'vpci_read' },       // pdev->vpci read from the freed pdev
        { outcome: 'use-after-free', where: 'vpci_hw_read16' },  // COMMAND's handler reads pdev->sbdf from it
        { outcome: 'use-after-free', where: 'pci_get_pdev' },    // the walk's own read (pci.c:548-575), as the compiled C names it
      ],
      acceptable: ['ok'],                                        // the read before or after the whole removal
    },
    // The drain proposal frees under hwdom->pci_lock (its part 4), which the reader holds: the pdev outlives the read.
    // It does not cover dom_xen's list itself (list_del under dom_xen's lock): with one hidden device the walk
    // stops on it, so nothing follows the poisoned link here.
    'upstream-drain': { expected: ['ok'] },
  },
});
