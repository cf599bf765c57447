// Seed crash path 1 (race R1): PHYSDEVOP_pci_device_add of a device with decoding on defers the BAR mapping into
// the issuing vCPU's slot, iommu_add_device fails, vpci_remove_device frees pdev->vpci, and the vCPU's
// vpci_process_pending then locks pdev->vpci->lock through NULL. Another Dom0 vCPU toggles a second device meanwhile.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'crash-path-1',
  description: 'add with decoding on, defer_map, iommu_add_device fails, removal, then vpci_process_pending',
  source: 'seed crash path 1; xen-vpci-model.md A.17 R1',
  machine: { vcpus: [2], devices: 2, boot: [1] },
  actors: {
    d0v0(x) {
      x.failNext('iommu');
      x.add(x.dev(0));
      x.resume();
    },
    d0v1(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      for (let i = 0; i < 2; i++) {
        const cmd = x.read(x.dev(1), PCI_COMMAND, 2);
        x.write(x.dev(1), PCI_COMMAND, 2, cmd ^ PCI_COMMAND_MEMORY);
        x.resume();
      }
    },
  },
  expect: {
    // R1 (A.17): the deferred map stays in d0v0's slot after vpci_remove_device NULLs pdev->vpci; the pending step
    // locks pdev->vpci->lock through NULL. Secondary race R5: d0v1's modify_bars walks Dom0's pdev_list with no
    // lock and meets device 0 half-removed: its vpci NULL or freed, or unlinked under the walk: list_del left
    // LIST_POISON1 in its next link (list.h:183) and the walk faults moving on.
    baseline: { expected: [
      { outcome: 'null-deref', where: 'vpci_process_pending' },   // R1, the reported Arm crash
      { outcome: 'null-deref', where: 'modify_bars' },            // R5: tmp->vpci already NULL
      { outcome: 'use-after-free', where: 'modify_bars' },        // R5: tmp->vpci read between xfree and NULL, or LIST_POISON1 followed
    ] },
    cancel: { expected: [
      'ok',                                                       // B.2: current (d0v0) is the vCPU whose slot holds the work
      { outcome: 'null-deref', where: 'modify_bars' },            // R5 untouched by cancelling
      { outcome: 'use-after-free', where: 'modify_bars' },        // R5, and the list_del under the walk (LIST_POISON1)
    ] },
    'cancel-all': { expected: [
      'ok',                                                       // B.5: every vCPU of the domain is cancelled
      { outcome: 'use-after-free', where: 'modify_bars' },        // R5 (list): per-device locks do not cover pdev_list; LIST_POISON1
    ] },
    pcidevs: { expected: ['ok'] },                                // §G S2: add, accesses and pending work all under pcidevs_lock
    'rwlock-trylock': {
      expected: [
        { outcome: 'null-deref', where: 'vpci_process_pending' }, // §G S3: nothing in the sketch rechecks pdev->vpci
        { outcome: 'null-deref', where: 'modify_bars' },          // R5: the walk reads a NULLed tmp->vpci (no recheck)
        { outcome: 'use-after-free', where: 'modify_bars' },      // R5 (list): list_del is under pcidevs_lock only; LIST_POISON1
      ],
      acceptable: ['ok'],                                         // write_trylock failed: vpci left in place, nothing freed
    },
    upstream: { expected: ['ok'] },                               // C.2/C.3: deassign under the write lock, pending step sees vpci NULL
    'upstream-drain': { expected: ['ok'] },                       // upstream plus draining: no more than upstream here
  },
});
