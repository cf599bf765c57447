// Found by hunt (upstream and upstream-drain, 10 minutes, this lab's finding-8 shrunk to 2 vCPUs / 2 actions):
// PHYSDEVOP_pci_mmcfg_reserved re-inits the extended capabilities of every device of the segment holding
// pcidevs_lock alone (pci_segment_iterate, pci.c:1922-1941; x86/physdev.c:168-188), and
// vpci_reinit_ext_capabilities (cap.c:392-410) reads pdev->vpci three times: the NULL check (394), the register
// removal (404), and through vpci_cleanup_capabilities / vpci_init_capabilities. PHYSDEVOP_pci_device_reset takes
// the owner's pci_lock for writing and drops pcidevs_lock before vpci_reset_device (physdev.c:101-113), which frees
// pdev->vpci and allocates a new one (vpci_deassign_device, vpci_assign_device) under d->pci_lock only. No lock
// orders the two. Unlike mmcfg-reinit, no device is hidden: Dom0's own device, a debug build, no ASSERT in the way.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'mmcfg-reset',
  description: 'Dom0 reports its MMCFG area (vPCI re-init under pcidevs_lock only) while it resets its own device',
  source: 'HEAD cap.c:392-410, x86/physdev.c:168-188, drivers/pci/physdev.c:71-123, pci.c:1922-1941; found by hunt',
  machine: { vcpus: [2], devices: 1 },
  actors: {
    d0v0(x) { x.mmcfgReserved(); x.resume(); },
    d0v1(x) { x.reset(x.dev(0)); x.resume(); },
  },
  expect: {
    // The re-init's pointer, read before the reset's deassign, names a freed struct vpci afterwards (its lock, its
    // register list); read between the deassign and the assign, it is NULL past the check at 394.
    upstream: { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },
    'upstream-drain': { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] },  // drains pending work only
    // Late 2021: no PHYSDEVOP_pci_device_reset (-ENOSYS) and no vPCI re-init on an MMCFG report.
    '*': { expected: ['ok'] },
  },
});
