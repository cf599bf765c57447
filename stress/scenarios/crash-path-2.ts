// Seed crash path 2 (R4): two Dom0 vCPUs both ask to turn decoding off for one device before either has resumed
// (the defer_map FIXME allows parallel operations); the first vpci_process_pending fails its unmap and calls
// vpci_remove_device with no lock, while the other vCPU's slot still points at the device.

import { defineScenario } from '../scenario.js';

const off = (x: Parameters<Parameters<typeof defineScenario>[0]['actors'][string]>[0]): void => {
  x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0);
  x.resume();
};

export default defineScenario({
  name: 'crash-path-2',
  description: 'a failing vpci_process_pending removes the device while another vCPU has pending work for it',
  source: 'seed crash path 2; A.17 R4',
  machine: { vcpus: [2], devices: 1, inject: { mapNext: 1 } },
  actors: { d0v0: off, d0v1: off },
  expect: {
    baseline: { expected: ['null-deref', 'use-after-free'], acceptable: ['ok'] },
    cancel: { expected: ['null-deref', 'use-after-free'], acceptable: ['ok'] },
    'cancel-all': { expected: ['ok'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['ok'] },
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
