// The scenario of ee045f3a4a-walk-no-vpci.mjs: a Dom0 vCPU turns decoding of device 1 off and on while the
// toolstack assigns device 0 to a DomU and takes it back. Each COMMAND write runs modify_bars under hwdom's
// pci_lock (write), which walks hwdom's pdev_list (header.c:438-500). Device 0 is on that list with pdev->vpci NULL
//   in assign_device    after vpci_deassign_device under hwdom's lock (pci.c:1616-1618) until reassign_device
//                       takes it off the list under the same lock (vtd/iommu.c:2804-2815), and
//   in deassign_device  after reassign_device put it back (pci.c:938) until vpci_assign_device (pci.c:948-951).
// HEAD skips such a device (header.c:442); before ee045f3a4a the walk reads its NULL vpci. Touching one's own
// device while the toolstack assigns another is what Dom0 does all day.
//
// Machine: Dom0 with two vCPUs, a DomU with one (no vPCI for it, as in Xen), two devices Dom0 owns at boot.

export default {
  name: 'ee045f3a4a-walk-no-vpci',
  description: 'Dom0 toggles one device\'s decoding while the toolstack assigns another to a DomU and takes it back',
  source: 'Xen ee045f3a4a (May 2023); HEAD header.c:438-500; pci.c:1616-1650, 933-951',
  machine: { vcpus: [2, 1], devices: 2 },
  actors: {
    d0v0(x) {                                          // the toolstack: pciback's reset (decoding off), then the domctls
      x.write(x.dev(0), x.regs.PCI_COMMAND, 2, 0);
      if (x.assign(1, x.dev(0)) === 0) x.deassign(1, x.dev(0));
    },
    d0v1(x) {                                          // Dom0's driver of device 1
      const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
      x.write(x.dev(1), PCI_COMMAND, 2, 0);
      x.write(x.dev(1), PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    },
  },
  expect: {
    // Before the fix: a modify_bars in either window reads device 0's NULL vpci; outside them it is fine.
    'pre-ee045f3a4a': { expected: [{ outcome: 'null-deref', where: 'modify_bars' }], acceptable: ['ok'] },
    // HEAD has the fix: the walk skips device 0. Each vCPU changes only its own device, and finishes its own
    // deferred work before it acts again, so the defer_map FIXME (double-modify) cannot arise. The drain patch and
    // 6ccb5e308c's revert leave modify_bars as HEAD has it (and no access here reaches a vpci-less device).
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
    'pre-6ccb5e308c': { expected: ['ok'] },
  },
};
