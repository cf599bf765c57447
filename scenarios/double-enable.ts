// The defer_map FIXME at HEAD (header.c:287-306, 357): two Dom0 vCPUs turn decoding on for one device. The first
// write's map is deferred into its vCPU's slot; bars_mapped (what cmd_write compares with, header.c:521-552) stays 0
// until that work runs, so the second write starts a second modify_bars while bar->mem still holds the first one's
// frames: fill_own_bars' ASSERT(rangeset_is_empty(bar->mem)) (header.c:357). A debug build panics there; a release
// build (--xen-build release) does not evaluate it and runs on: both vCPUs now own work for the same rangesets.
// At late 2021 each modify_bars has its own rangeset and nothing asserts.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'double-enable',
  description: 'two Dom0 vCPUs turn decoding on for one device before either resumes (header.c:357)',
  source: 'A.7 defer_map FIXME; C.3; HEAD header.c:357',
  machine: { vcpus: [2], devices: 1 },
  actors: {
    d0v0(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      x.write(x.dev(0), PCI_COMMAND, 2, 0); x.resume();
      x.write(x.dev(0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY); x.resume();
    },
    d0v1(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      x.write(x.dev(0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY); x.resume();
    },
  },
  expect: {
    // HEAD: the ASSERT in a debug build (header.c:357); in a release build the second fill adds to the first's
    // frames and whichever vCPU resumes first maps them, the other finds the rangesets empty: no crash.
    upstream: { expected: ['assert'], acceptable: ['ok'] },
    'upstream-drain': { expected: ['assert'], acceptable: ['ok'] },
    // Late 2021: one rangeset per modify_bars, in the slot of the vCPU that wrote; nothing asserts.
    '*': { acceptable: ['ok', 'stale-mapping'] },
  },
});
