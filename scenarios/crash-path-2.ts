// Seed crash path 2 (R4): two Dom0 vCPUs both ask to turn decoding off for one device before either has resumed
// (the defer_map FIXME allows parallel operations); the first vpci_process_pending fails its unmap and calls
// vpci_remove_device with no lock, while the other vCPU's slot still points at the device.

import { defineScenario } from '../lib/scenario/scenario.js';

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
  // HEAD's own bug here, not this scenario's race (R4): the defer_map FIXME lets the second vCPU's modify_bars find
  // the first operation's ranges still in bar->mem. Every strategy on HEAD inherits it unless it fixes it.
  known: { head: [{ outcome: 'assert', where: 'modify_bars', xen: 'header.c:357', why: 'ASSERT(rangeset_is_empty(bar->mem)), the defer_map FIXME' }] },
  expect: {
    // R4 (A.17): the failing pending step calls vpci_remove_device with no lock while the other vCPU's slot (and
    // its config access) still target the device; what the other vCPU then hits is R1's NULL, R2's freed vpci or
    // R3's lock in freed memory, in its pending step or its vpci_write (the NULL there is what 6ccb5e308c fixed).
    baseline: {
      expected: [
        { outcome: 'null-deref', where: 'vpci_process_pending' },   // seed path 2: pdev->vpci NULL after removal
        { outcome: 'use-after-free', where: 'vpci_process_pending' }, // read between xfree and the NULL store
        { outcome: 'use-after-free', where: 'spin_lock' },        // R3: waiting on vpci->lock while removal frees it
        { outcome: 'null-deref', where: 'vpci_write' },           // C.5 / 6ccb5e308c: vpci_write after removal
        { outcome: 'use-after-free', where: 'vpci_write' },       // R2: vpci freed under the access
      ],
      acceptable: ['ok'],                                         // the second write ends before removal and defers nothing
    },
    cancel: {
      expected: [                                                 // B.2: cancels current's slot only, the failing vCPU's own
        { outcome: 'null-deref', where: 'vpci_process_pending' },
        { outcome: 'use-after-free', where: 'vpci_process_pending' },
        { outcome: 'use-after-free', where: 'spin_lock' },
        { outcome: 'null-deref', where: 'vpci_write' },
        { outcome: 'use-after-free', where: 'vpci_write' },
      ],
      acceptable: ['ok'],
    },
    'cancel-all': { expected: ['ok'] },     // B.5: removal under the pdev lock cancels every slot; accesses recheck vpci
    pcidevs: { expected: ['ok'] },          // §G S2: serialised, removal drains every slot
    'rwlock-trylock': { expected: ['ok'] }, // B.4: pending work no longer removes the device; Dom0 carries on
    // C.3 step 4: a failure purges and clears, no removal, Dom0 not crashed. C.3 (derived), the defer_map FIXME:
    // the second vCPU's modify_bars finds the BARs still enabled with the first operation's ranges in bar->mem and
    // fails ASSERT(rangeset_is_empty(bar->mem)) (header.c:357) in a debug build. The drain proposal leaves it.
    upstream: { expected: [{ outcome: 'assert', where: 'modify_bars' }], acceptable: ['ok'] },
    'upstream-drain': { expected: [{ outcome: 'assert', where: 'modify_bars' }], acceptable: ['ok'] },
  },
});
