// Jan's concern with cancelling (B.3): removal on one vCPU cancels pending work that another vCPU may be running.
// A DomU vCPU turns decoding on (work deferred into its own slot) while Dom0 deassigns the device: cancelling only
// `current` (v4) misses the DomU's slot, which then maps a device the DomU no longer owns.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'cancel-race',
  description: 'deassign cancels pending work while the owning DomU vCPU is about to run it',
  source: 'B.3 (5bd70935-4968-b8d4-4d6c-7ec0fc54ee6a@suse.com), B.5 review',
  // The DomU drives its device's decoding: it needs DomU vPCI, which Xen does not give (issue 15 point 3).
  machine: { vcpus: [1, 1], devices: 1, vpciGuestSupport: true },
  actors: {
    d0v0(x) {
      x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0);
      x.resume();
      if (x.assign(1, x.dev(0)) === 0) { x.resume(); x.deassign(1, x.dev(0)); x.resume(); x.unmapBars(1, x.dev(0)); }
      x.resume();
    },
    d1v0(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      for (let i = 0; i < 3; i++) { x.write(x.dev(0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY); x.resume(); }
    },
  },
  expect: {
    // DomUs have vPCI through the v4 series' assign hooks (README modelling choices), so R1-R4 reach a DomU vCPU:
    // its deferred map (or its config write) races the deassign that removes vPCI and re-adds it for Dom0.
    baseline: {
      expected: [
        'stale-mapping',                                          // B.3: the DomU's map lands after deassign (Dom0's new vpci)
        { outcome: 'null-deref', where: 'vpci_process_pending' }, // R1 on the DomU's slot
        { outcome: 'use-after-free', where: 'vpci_process_pending' }, // vpci freed under the pending step
        { outcome: 'null-deref', where: 'vpci_write' },           // C.5: vpci_write after removal
        { outcome: 'use-after-free', where: 'vpci_write' },       // R2
        { outcome: 'use-after-free', where: 'spin_lock' },        // R3
      ],
      acceptable: ['ok'],
    },
    cancel: {
      expected: [                                                 // B.3 (Jan): current is Dom0's vCPU, the DomU's slot is missed
        'stale-mapping',
        { outcome: 'null-deref', where: 'vpci_process_pending' },
        { outcome: 'use-after-free', where: 'vpci_process_pending' },
        { outcome: 'null-deref', where: 'vpci_write' },
        { outcome: 'use-after-free', where: 'vpci_write' },
        { outcome: 'use-after-free', where: 'spin_lock' },
      ],
      acceptable: ['ok'],
    },
    // R2 under v5: vpci_write looks the device up with no lock; when it gets pdev->vpci_lock the device may be
    // Dom0's again (ownership not revalidated) and the DomU's deferred map lands in the DomU's p2m.
    'cancel-all': { expected: ['stale-mapping'], acceptable: ['ok'] },
    pcidevs: { expected: ['ok'] },                                // §G S2: lookup and deassign both under pcidevs_lock
    'rwlock-trylock': {
      expected: [                                                 // §G S3: the slot is neither cancelled nor rechecked
        'stale-mapping',                                          // the DomU maps after Dom0's vpci is back
        { outcome: 'null-deref', where: 'vpci_process_pending' }, // ... or locks pdev->vpci while it is NULL
      ],
      acceptable: ['ok'],
    },
    upstream: { expected: ['ok'] },         // C.3 step 3: pdev->domain != v->domain, the work is dropped
    'upstream-drain': { expected: ['ok'] },
  },
});
