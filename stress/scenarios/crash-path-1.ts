// Seed crash path 1 (race R1): PHYSDEVOP_pci_device_add of a device with decoding on defers the BAR mapping into
// the issuing vCPU's slot, iommu_add_device fails, vpci_remove_device frees pdev->vpci, and the vCPU's
// vpci_process_pending then locks pdev->vpci->lock through NULL. Another Dom0 vCPU toggles a second device meanwhile.

import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'crash-path-1',
  description: 'add with decoding on, defer_map, iommu_add_device fails, removal, then vpci_process_pending',
  source: 'seed crash path 1; xen-vpci-model.md A.17 R1',
  machine: { vcpus: [2], devices: 2, boot: [1] },
  actors: {
    d0v0(x) {
      x.failNext('iommu');
      x.add(x.dev(0));
      x.resume();
    },
    d0v1(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      for (let i = 0; i < 2; i++) {
        const cmd = x.read(x.dev(1), PCI_COMMAND, 2);
        x.write(x.dev(1), PCI_COMMAND, 2, cmd ^ PCI_COMMAND_MEMORY);
        x.resume();
      }
    },
  },
  expect: {
    // Secondary race R5: d0v1's modify_bars walks Dom0's list and meets device 0 half-removed.
    baseline: { expected: ['null-deref'], acceptable: ['use-after-free'] },
    cancel: { expected: ['ok'], acceptable: ['null-deref', 'use-after-free'] },
    'cancel-all': { expected: ['ok'], acceptable: ['assert', 'use-after-free'] },   // ASSERT(dev): the walk lost its list
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['null-deref'] },  // the sketch never rechecks pdev->vpci
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
