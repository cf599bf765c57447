// hidden-msi's MSI-X form: the hidden (dom_xen) device's table went on *Dom0's* msix_tables list at setup, because
// init_msix ran while pdev->domain was briefly hwdom (pci.c:1317-1322, msix.c:795-798), so Dom0's table writes trap
// to it. Unmasking an entry of the enabled table reaches vpci_msix_arch_enable_entry through update_entry, which
// asserts ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain) (vmsi.c:1007) on dom_xen, whose pci_lock nobody holds: msix_write
// holds hwdom's. No race is involved.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'hidden-msix',
  description: 'Dom0 programs, enables and unmasks an MSI-X entry of a hidden (dom_xen) device',
  source: 'HEAD msix.c:157-175, 795-798, vmsi.c:1001-1024, pci.h:213-215, pci.c:1317-1322',
  machine: { vcpus: [1], devices: 2, boot: [0], hidden: [1], msix: true },
  actors: {
    d0v0(x) {
      const { PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_DATA_OFFSET,
        PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET } = x.regs;
      const dev = x.dev(1);
      x.msixWrite(dev, 0, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, 0xfee00000);
      x.msixWrite(dev, 0, PCI_MSIX_ENTRY_DATA_OFFSET, 0x4030);
      x.write(dev, 0x40 + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);   // MSIX_CAP_POS
      x.msixWrite(dev, 0, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, 0);
    },
  },
  // HEAD's own open bug (README: Open at HEAD), whatever locking strategy runs on it.
  known: { head: [{ outcome: 'assert', where: 'vpci_msix_arch_enable_entry', xen: 'vmsi.c:1007', why: 'ASSERT_PDEV_LIST_IS_READ_LOCKED on dom_xen' }] },
  expect: {
    // Late 2021: no vPCI for a dom_xen device (hwdom's lookup never finds it): config writes go to the hardware and
    // the table is the device's own memory, untrapped.
    baseline: { expected: ['ok'] },
    cancel: { expected: ['ok'] },
    'cancel-all': { expected: ['ok'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['ok'] },
    // HEAD, and HEAD with the drain (which changes no lock of the MSI-X path): the assertion above.
    upstream: { expected: [{ outcome: 'assert', where: 'vpci_msix_arch_enable_entry' }] },
    'upstream-drain': { expected: [{ outcome: 'assert', where: 'vpci_msix_arch_enable_entry' }] },
  },
});
