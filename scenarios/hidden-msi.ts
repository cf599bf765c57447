// Dom0 enables MSI on a device Xen hides (pci_hide_device: dom_xen owns it, e.g. a PCI serial card for the console).
// At HEAD the hardware domain's vPCI covers dom_xen's devices: setup_hwdom_pci_devices runs vpci_assign_device on
// them with pdev->domain briefly set to hwdom (pci.c:1317-1322), so init_msi registers MSI's handlers, and vpci_write
// finds the device on dom_xen's list holding only hwdom's pci_lock ("acquiring hwdom's pci_lock is sufficient",
// vpci.c:612-627). msi.c's control_write then calls vpci_msi_arch_enable, which asserts
// ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain) (vmsi.c:933): pcidevs_lock (not held) or dom_xen's pci_lock (nobody
// holds it). A debug build panics; no race is involved. (A release build goes on to allocate_and_map_msi_pirq for
// dom_xen, vmsi.c:914, not modelled.) The driver below walks the capability list the way a Dom0 driver would.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'hidden-msi',
  description: 'Dom0 enables MSI on a hidden (dom_xen) device through vPCI',
  source: 'HEAD msi.c:38-91, vmsi.c:927-943, pci.h:213-215, vpci.c:612-627, pci.c:1317-1322',
  machine: { vcpus: [1], devices: 2, boot: [0], hidden: [1], msi: true },
  actors: {
    d0v0(x) {
      const { PCI_CAPABILITY_LIST, PCI_CAP_LIST_ID, PCI_CAP_LIST_NEXT, PCI_CAP_ID_MSI, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE,
        PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_32 } = x.regs;
      const dev = x.dev(1);
      let pos = x.read(dev, PCI_CAPABILITY_LIST, 1);
      while (pos >= 0x40 && x.read(dev, pos + PCI_CAP_LIST_ID, 1) !== PCI_CAP_ID_MSI) pos = x.read(dev, pos + PCI_CAP_LIST_NEXT, 1);
      if (pos < 0x40) return;
      x.write(dev, pos + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
      x.write(dev, pos + PCI_MSI_DATA_32, 2, 0x4030);
      x.write(dev, pos + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    },
  },
  // HEAD's own open bug (README: Open at HEAD), whatever locking strategy runs on it.
  known: { head: [{ outcome: 'assert', where: 'vpci_msi_arch_enable', xen: 'vmsi.c:933', why: 'ASSERT_PDEV_LIST_IS_READ_LOCKED on dom_xen' }] },
  expect: {
    // Late 2021: hwdom's lookup never finds a dom_xen device (pci_get_pdev_by_domain(hwdom)): the writes go to the
    // hardware, no vPCI handler runs.
    baseline: { expected: ['ok'] },
    cancel: { expected: ['ok'] },
    'cancel-all': { expected: ['ok'] },
    pcidevs: { expected: ['ok'] },
    'rwlock-trylock': { expected: ['ok'] },
    // HEAD: the assertion above, in every schedule (one vCPU). The drain proposal changes no lock MSI takes.
    upstream: { expected: [{ outcome: 'assert', where: 'vpci_msi_arch_enable' }] },
    'upstream-drain': { expected: [{ outcome: 'assert', where: 'vpci_msi_arch_enable' }] },
  },
});
