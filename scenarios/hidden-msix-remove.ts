// Removing a hidden MSI-X device leaves its table on Dom0's list. pci_remove_device calls vpci_deassign_device under
// the owner's lock (pci.c:875-881), and the owner is dom_xen, which has no vPCI: vpci_deassign_device returns at its
// first test, `!has_vpci(pdev->domain)` (vpci.c:96-97), so cleanup_msix never runs. Yet the device's vpci exists, set
// up for the hardware domain (pci.c:1317-1322), and its struct vpci_msix sits on *Dom0's* msix_tables list
// (msix.c:798, added while pdev->domain was hwdom). free_pdev then frees the pdev under it (pci.c:885, 460-466).
// Dom0's next MMIO access that no earlier table claims walks on to that entry: msix_find reads msix->pdev->vpci from
// the freed pdev (msix.c:165). No race: one vCPU, any order. (The vpci, its handlers and rangesets leak too.)

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'hidden-msix-remove',
  description: 'Dom0 removes a hidden (dom_xen) MSI-X device, then touches its old MSI-X table address',
  source: 'HEAD pci.c:834-891, vpci.c:90-97, msix.c:157-175, 795-798, pci.c:1317-1322',
  machine: { vcpus: [1], devices: 2, boot: [0], hidden: [1], msix: true },
  actors: {
    d0v0(x) {
      const { PCI_MSIX_ENTRY_DATA_OFFSET } = x.regs;
      x.remove(x.dev(1));
      x.msixRead(x.dev(1), 0, PCI_MSIX_ENTRY_DATA_OFFSET);
    },
  },
  // HEAD's own open bug (README: Open at HEAD), whatever locking strategy runs on it.
  known: { head: [{ outcome: 'use-after-free', where: 'msix_find', xen: 'msix.c:165', why: 'a hidden device\'s table left on Dom0\'s msix_tables list' }] },
  expect: {
    // Late 2021: a hidden device never had vPCI (hwdom's lookup never finds it), so there is no table to leave
    // behind: the read is an MMIO access nothing claims.
    baseline: { expected: ['ok'] },
    cancel: { expected: ['ok'] },
    'cancel-all': { expected: ['ok'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['ok'] },
    // HEAD: the stale table above. The drain proposal replaces vpci_process_pending and free_pdev only, so
    // vpci_deassign_device's has_vpci(dom_xen) return leaves the table on the list just the same.
    upstream: { expected: [{ outcome: 'use-after-free', where: 'msix_find' }] },
    'upstream-drain': { expected: [{ outcome: 'use-after-free', where: 'msix_find' }] },
  },
});
