// PHYSDEVOP_pci_mmcfg_reserved at HEAD (x86/physdev.c:529-550, d734babf8b) re-inits the extended capabilities of
// every device of the segment under pcidevs_lock alone (pci_segment_iterate, pci.c:1922-1941):
// vpci_reinit_ext_capabilities (cap.c:392-410) reads pdev->vpci (394), asserts pdev->domain == hardware_domain (402)
// and removes registers from pdev->vpci read again (404). A hidden device has a vpci and belongs to dom_xen
// (465217b0f8): the ASSERT fails in a debug build as soon as Dom0 reports its MMCFG area. And PHYSDEVOP_pci_device_reset
// drops pcidevs_lock before vpci_reset_device (physdev.c:105-113), which frees and re-creates pdev->vpci under
// d->pci_lock only: nothing orders it against the re-init's two reads.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'mmcfg-reinit',
  description: 'Dom0 reports its MMCFG area (vPCI re-init, pcidevs_lock only) while it resets a device; one device is hidden',
  source: 'HEAD cap.c:392-410, x86/physdev.c:168-188, 529-550, pci.c:1922-1941; d734babf8b, 465217b0f8',
  machine: { vcpus: [2], devices: 2, boot: [0], hidden: [1] },
  actors: {
    d0v0(x) { x.mmcfgReserved(); },
    d0v1(x) { x.reset(x.dev(0)); },
  },
  expect: {
    // HEAD, debug build: the hidden device's vpci trips cap.c:402 whatever the order. Release build: no ASSERT; the
    // reset may free the vpci the re-init is removing registers from (404), or leave pdev->vpci NULL between its
    // deassign and assign, when the re-init reads it.
    upstream: {
      expected: [{ outcome: 'assert', where: 'vpci_reinit_ext_capabilities' }, 'use-after-free', 'null-deref'],
      acceptable: ['ok'],
    },
    'upstream-drain': {
      expected: [{ outcome: 'assert', where: 'vpci_reinit_ext_capabilities' }, 'use-after-free', 'null-deref'],
      acceptable: ['ok'],
    },
    // Late 2021: no PHYSDEVOP_pci_device_reset (-ENOSYS) and no vPCI re-init on an MMCFG report.
    '*': { expected: ['ok'] },
  },
});
