// The defer_map FIXME (A.7, R6): while a map is still deferred, decoding still reads as off, so another vCPU may
// move the BAR; the pending work maps the old frames and modify_decoding then marks the BAR at its new address
// enabled. Still present upstream (C.3).

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'double-modify',
  description: 'a second operation on a device whose first modify_bars is still pending',
  source: 'A.7 defer_map FIXME; A.17 R6; C.3',
  machine: { vcpus: [2], devices: 1 },
  actors: {
    d0v0(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      x.write(x.dev(0), PCI_COMMAND, 2, 0); x.resume();
      x.write(x.dev(0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY); x.resume();
    },
    d0v1(x) {
      const bar0 = x.read(x.dev(0), x.regs.PCI_BASE_ADDRESS_0, 4) & 0xfffffff0;
      x.write(x.dev(0), x.regs.PCI_BASE_ADDRESS_0, 4, (bar0 + 0x20000) >>> 0); x.resume();
    },
  },
  // A.7 FIXME / R6 at L21, still there at HEAD (C.3): no strategy orders a BAR write against a deferred map.
  // The FIXME is each generation's own: a patch is not blamed for it unless it claims to fix it.
  known: {
    l21: [{ outcome: 'stale-mapping', xen: 'header.c defer_map FIXME', why: 'A.7 / R6' }],
    head: [{ outcome: 'stale-mapping', xen: 'header.c defer_map FIXME', why: 'C.3' }],
  },
  expect: { '*': { expected: ['stale-mapping'], acceptable: ['ok'] } },
});
