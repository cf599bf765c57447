// The scenario of 6ccb5e308c-vpci-null.mjs: Dom0 reads the config space of a device while the toolstack assigns it
// to a DomU and takes it back. At HEAD the device is on the hardware domain's lists (alldevs_list with
// pdev->domain == hwdom, which is what pci_get_pdev(hwdom) matches, pci.c:548-578) with pdev->vpci NULL twice:
//   assign_device    after vpci_deassign_device under hwdom's lock (pci.c:1616-1618) until the IOMMU's
//                    reassign_device takes it off hwdom's list and sets pdev->domain (vtd/iommu.c:2804-2815);
//   deassign_device  after reassign_device put it back on hwdom's list (pci.c:938) until vpci_assign_device under
//                    hwdom's lock (pci.c:948-951). With quarantine (Xen's default, pci.c:909-920) that is the second
//                    deassign, from dom_io (`xl pci-assignable-remove`); the first only parks the device in dom_io.
// A Dom0 access in either window finds the device and no vpci: HEAD goes to the hardware (vpci.c:505, 629), the
// code before 6ccb5e308c locks pdev->vpci->lock through NULL. Touching a device's config space while the toolstack
// assigns it is legal for Dom0 (lspci or setpci on another vCPU, say): Xen must survive it.
//
// Machine: Dom0 with two vCPUs, a DomU with one (no vPCI for it, as in Xen), one device Dom0 owns at boot.

export default {
  name: '6ccb5e308c-vpci-null',
  description: 'Dom0 config accesses while the toolstack assigns the device to a DomU and takes it back',
  source: 'Xen 6ccb5e308c (Oct 2022); HEAD pci.c:1616-1650, 933-951; vpci.c:505',
  machine: { vcpus: [2, 1], devices: 1 },
  actors: {
    d0v0(x) {                                          // the toolstack: pciback's reset (decoding off), then the domctls
      x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0);
      if (x.assign(1, x.dev(0)) === 0) { x.deassign(1, x.dev(0)); x.dequarantine(x.dev(0)); }
    },
    d0v1(x) {                                          // Dom0's own access: a read, then a register no handler traps
      x.read(x.dev(0), x.regs.PCI_VENDOR_ID, 4);
      x.write(x.dev(0), x.regs.PCI_CACHE_LINE_SIZE, 1, 0x10);
    },
  },
  expect: {
    // Before the fix: an access in either window dereferences the NULL pdev->vpci (spin_lock(&pdev->vpci->lock),
    // vpci.c:511 / 641); outside them it is fine.
    'pre-6ccb5e308c': {
      expected: [{ outcome: 'null-deref', where: 'vpci_read' }, { outcome: 'null-deref', where: 'vpci_write' }],
      acceptable: ['ok'],
    },
    // HEAD has the fix: a device without vpci is read and written in the hardware. The drain patch and ee045f3a4a's revert
    // leave vpci_read as HEAD has it.
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
    'pre-ee045f3a4a': { expected: ['ok'] },
  },
};
