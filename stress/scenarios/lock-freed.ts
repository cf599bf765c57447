// R3: a reader waits on pdev->vpci->lock while vpci_remove_device holds it to free the handlers; the remover
// unlocks and frees the struct the lock lives in, and the waiter then takes a lock inside freed memory.

import { defineScenario } from '../scenario.js';

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
    baseline: { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    cancel: { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    'cancel-all': { expected: ['use-after-free'], acceptable: ['ok'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
