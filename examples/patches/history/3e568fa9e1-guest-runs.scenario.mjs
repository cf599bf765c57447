// The scenario of 3e568fa9e1-guest-runs.mjs: one Dom0 vCPU turns decoding on and then writes BAR0 to a new
// address. What the 2018 code decides rests on the hardware COMMAND register: cmd_write compares with it
// (header.c:318-338 at 3e568fa9e1^) and bar_write refuses a BAR write only while it has MEMORY set (header.c:348-356,
// "ignored BAR write with memory decoding enabled"). modify_decoding sets MEMORY only when the deferred map has
// finished. So while the map is pending the device still reads as not decoding:
//   fixed    the vCPU cannot act until vpci_process_pending is done; the BAR write then meets decoding on and is
//            ignored: BAR0 stays where it is mapped;
//   2018     the vCPU is back in the guest after one chunk; its BAR write meets decoding off and moves BAR0 in the
//            hardware and in vPCI; the rest of the map, computed from the old address, finishes on later VM entries
//            and modify_decoding marks BAR0 enabled at the new one: Dom0's p2m maps the old frames, not the BAR
//            (a stale mapping, what bar_write's check exists to prevent).
// The same vCPU's more ordinary sequence, decoding off, BAR moved, decoding on, loses the BAR write instead (it
// meets MEMORY still set while the unmap is pending): the device stays at its old address while Dom0 believes it
// moved. Xen's state stays consistent there, so no outcome of the lab shows it; this scenario shows the one that is
// Xen's to prevent.
//
// Machine: one Dom0 vCPU, one device. general_preempt_check() is true at every check (preemptEvery: 1), with four
// frames per map_mmio_regions call: the lab's 64 KiB BAR takes four chunks, as the large BARs the deferral exists
// for (hundreds of MiB) take thousands. `settle` is the guest running on: each resume is one exit and VM entry.

export default {
  name: '3e568fa9e1-guest-runs',
  description: 'one vCPU enables decoding, then moves BAR0 while the map may still be pending',
  source: 'Xen 3e568fa9e1 (Nov 2018); header.c:318-338, 341-356 at 3e568fa9e1^',
  machine: { vcpus: [1], devices: 1, preemptEvery: 1 },
  actors: {
    d0v0(x) {
      const { PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_BASE_ADDRESS_0 } = x.regs;
      const settle = () => { for (let i = 0; i < 8; i++) x.resume(); };
      x.write(x.dev(0), PCI_COMMAND, 2, 0);                          // decoding off: BARs unmapped
      settle();
      const bar0 = x.read(x.dev(0), PCI_BASE_ADDRESS_0, 4) & 0xfffffff0;
      x.write(x.dev(0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY);         // decoding on: the map is deferred
      x.write(x.dev(0), PCI_BASE_ADDRESS_0, 4, (bar0 + 0x20000) >>> 0);
      settle();
    },
  },
  expect: {
    // Before the fix: the BAR write lands while the map is pending (one vCPU, no race: every run without faults).
    // With a fault (verify --faults): a failing map_mmio_regions makes L21's vpci_process_pending remove vPCI and
    // the vCPU's next config access dereferences the NULL pdev->vpci (6ccb5e308c's bug, unfixed at L21); a map
    // that fails, or an xzalloc that fails in modify_bars, leaves nothing mapped at the old address: ok.
    'pre-3e568fa9e1': {
      expected: ['stale-mapping', { outcome: 'null-deref', where: 'vpci_write' }, { outcome: 'null-deref', where: 'vpci_read' }],
      acceptable: ['ok'],
    },
    // The fix (L21 has it): the vCPU finishes its deferred work before it acts again, so the BAR write meets
    // decoding on and is ignored. With a failing map, 6ccb5e308c's bug as above.
    baseline: { expected: ['ok', { outcome: 'null-deref', where: 'vpci_write' }, { outcome: 'null-deref', where: 'vpci_read' }] },
    // HEAD: the same return path; the BAR write is refused on bar->enabled (7abd7bc162), and a failed map no
    // longer removes vPCI (622bdd9628).
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
};
