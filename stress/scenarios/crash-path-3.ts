// Seed crash path 3 (R2/R3): a guest config access while PHYSDEVOP_pci_device_remove frees pdev->vpci (and then
// pdev): vpci_read finds the device with no lock and dereferences what removal freed or NULLed.

import { defineScenario } from '../scenario.js';

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
    baseline: { expected: ['null-deref', 'use-after-free'], acceptable: ['ok'] },
    cancel: { expected: ['null-deref', 'use-after-free'], acceptable: ['ok'] },
    'cancel-all': { expected: ['use-after-free'], acceptable: ['ok'] },   // the lock survives vpci, not pdev
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['null-deref', 'use-after-free'], acceptable: ['ok'] },
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
