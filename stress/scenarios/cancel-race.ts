// Jan's concern with cancelling (B.3): removal on one vCPU cancels pending work that another vCPU may be running.
// A DomU vCPU turns decoding on (work deferred into its own slot) while Dom0 deassigns the device: cancelling only
// `current` (v4) misses the DomU's slot, which then maps a device the DomU no longer owns.

import { defineScenario } from '../scenario.js';

export default defineScenario({
  name: 'cancel-race',
  description: 'deassign cancels pending work while the owning DomU vCPU is about to run it',
  source: 'B.3 (5bd70935-4968-b8d4-4d6c-7ec0fc54ee6a@suse.com), B.5 review',
  machine: { vcpus: [1, 1], devices: 1 },
  actors: {
    d0v0(x) {
      x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0);
      x.resume();
      if (x.assign(1, x.dev(0)) === 0) { x.resume(); x.deassign(1, x.dev(0)); }
      x.resume();
    },
    d1v0(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      for (let i = 0; i < 3; i++) { x.write(x.dev(0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY); x.resume(); }
    },
  },
  expect: {
    baseline: { expected: ['null-deref', 'use-after-free', 'stale-mapping'], acceptable: ['ok'] },
    cancel: { expected: ['null-deref', 'use-after-free', 'stale-mapping'], acceptable: ['ok'] },
    // Found by this lab: vpci_write looks the device up with no lock; when it gets pdev->vpci_lock the device may
    // already be Dom0's again, and the DomU's deferred map lands in the DomU's p2m (ownership not revalidated, R2).
    'cancel-all': { expected: ['ok', 'stale-mapping'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['ok'], acceptable: ['null-deref', 'use-after-free', 'stale-mapping'] },
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
