// Seed crash path 4: XEN_DOMCTL_assign_device / deassign_device, which the analysis finds unaffected: both run
// under pcidevs_lock, and their own deferred work runs on the issuing vCPU. The toolstack resets decoding first
// (as pciback does); meanwhile the DomU vCPU only resumes and a Dom0 vCPU reads another device.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'crash-path-4',
  description: 'assign to a DomU and deassign, with other vCPUs resuming and reading another device',
  source: 'seed crash path 4',
  machine: { vcpus: [2, 1], devices: 2 },
  actors: {
    d0v0(x) {
      x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0);
      x.resume();
      if (x.assign(1, x.dev(0)) === 0) { x.resume(); x.deassign(1, x.dev(0)); }
      x.resume();
    },
    d0v1(x) { for (let i = 0; i < 3; i++) { x.read(x.dev(1), x.regs.PCI_VENDOR_ID, 4); x.resume(); } },
    d1v0(x) { for (let i = 0; i < 3; i++) x.resume(); },
  },
  // The seed: assign/deassign "seem to be unaffected"; the toolstack resets decoding first, so no work is deferred
  // for the DomU, and both hypercalls run under pcidevs_lock. Nothing but ok under any strategy.
  expect: { '*': { expected: ['ok'] } },
});
