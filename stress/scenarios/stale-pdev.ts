// Derived in C.3: upstream's pending step rechecks pdev->vpci and pdev->domain under d->pci_lock, but it reads
// them through v->vpci.pdev, a raw pointer nobody clears when pci_remove_device frees the pdev. A Dom0 vCPU turns
// decoding off (work deferred) while another removes the device.

import { defineScenario } from '../scenario.js';

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
    baseline: { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    cancel: { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    'cancel-all': { expected: ['ok'], acceptable: ['use-after-free'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    upstream: { expected: ['use-after-free'], acceptable: ['ok'] },   // the derived weakness
    'upstream-drain': { expected: ['ok'] },            // the drain closes it
  },
});
