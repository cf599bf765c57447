// A second trigger of seed crash path 1, from late 2021's init order (issue 15 §5): vpci_add_handlers runs
// init_msix, init_bars, init_msi (REGISTER_VPCI_INIT priorities HIGH, MIDDLE, LOW; vpci.c L21 75-82) and stops at
// the first error. PHYSDEVOP_pci_device_add of a device with decoding on: init_bars defers the BAR map into the
// issuing vCPU's slot (modify_bars -> defer_map), init_msi then fails (-ENOMEM), and vpci_add_handlers' own
// vpci_remove_device frees pdev->vpci under that pending work. No iommu_add_device failure is needed. At HEAD
// (lib/xen/head/msi.ts, cap.ts) the same init_msi failure masks the capability and keeps the device.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'init-msi-fail',
  description: 'add with decoding on, init_bars defers the map, init_msi fails, vpci_remove_device, then vpci_process_pending',
  source: 'issue 15 §5; vpci.c L21 60-89, msi.c L21 184-263 (crash path 1 by another error path); HEAD cap.c:288-359, msi.c:197-333',
  machine: { vcpus: [2], devices: 2, boot: [1], msi: true },
  actors: {
    d0v0(x) {
      x.failNext('init_msi');
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
    // R1 (A.17) reached through init_msi: the pending step locks pdev->vpci->lock through NULL. The secondary R5 of
    // crash-path-1 is here too: pci_add_device put device 0 on Dom0's pdev_list before vpci_add_handlers
    // (pci.c L21 827-828) and takes it off again on failure (838), with no lock d0v1's modify_bars walk respects.
    baseline: { expected: [
      { outcome: 'null-deref', where: 'vpci_process_pending' },   // R1 by init_msi
      { outcome: 'null-deref', where: 'modify_bars' },            // R5: tmp->vpci already NULL
      { outcome: 'use-after-free', where: 'modify_bars' },        // R5: tmp->vpci freed, or LIST_POISON1 followed
    ], acceptable: ['ok'] },                                      // under verify --faults init, an earlier hook failing first: nothing deferred
    cancel: { expected: [
      'ok',                                                       // B.2: vpci_remove_device cancels current's (d0v0's) work
      { outcome: 'null-deref', where: 'modify_bars' },            // R5 untouched by cancelling
      { outcome: 'use-after-free', where: 'modify_bars' },        // R5
    ] },
    'cancel-all': { expected: [
      'ok',                                                       // B.5
      { outcome: 'use-after-free', where: 'modify_bars' },        // R5 (list): per-device locks do not cover pdev_list
    ] },
    pcidevs: { expected: ['ok'] },                                // §G S2: add, accesses and pending work under pcidevs_lock
    'rwlock-trylock': {
      expected: [
        { outcome: 'null-deref', where: 'vpci_process_pending' }, // §G S3: nothing rechecks pdev->vpci
        { outcome: 'null-deref', where: 'modify_bars' },          // R5
        { outcome: 'use-after-free', where: 'modify_bars' },      // R5 (list)
      ],
      acceptable: ['ok'],                                         // write_trylock failed: vpci left in place
    },
    // HEAD consumes the same scripted failure and survives it: vpci_assign_device runs vpci_init_header (which
    // defers the map into d0v0's slot, header.c:929) and then the capability array, whose failing init_msi is
    // cleaned up and hidden instead of failing the device (cap.c:318-340: cleanup_msi(pdev, true), msi.c:197-255,
    // leaves Dom0 a read-only MSI control; vpci_capability_hide, cap.c:40-74, unlinks MSI from the emulated list).
    // pdev->vpci is never freed, all of it under hwdom's pci_lock held for writing (pci.c:788-791), and the
    // pending step rechecks pdev->vpci under the read lock anyway (header.c:188).
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },                       // HEAD plus the drain: the same reasons
  },
});
