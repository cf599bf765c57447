// MSI-X, the second guest entry point into vPCI state (issue 9 §2): a Dom0 vCPU writes an MSI-X table entry while
// another removes the device. The write traps (the table page is a hole in the p2m): msix_accept and msix_write
// each find the table by walking d->arch.hvm.msix_tables, then follow msix->pdev->vpci to the BARs and the lock.
// At L21 nothing orders that walk against vpci_remove_device, which frees msix and vpci — and never takes msix
// off the domain's list (c14aea137e, Oct 2022), so a write that comes after the removal walks into freed memory
// as surely as one that overlaps it.

import { defineScenario } from '../lib/scenario/scenario.js';

export default defineScenario({
  name: 'msix-race',
  description: 'a guest MSI-X table write racing PHYSDEVOP_pci_device_remove',
  source: 'msix.c L21 msix_find/msix_write; c14aea137e (list_del on removal); 4f78438b45 (d->pci_lock in msix.c); msix.c HEAD 157-587, 664-711',
  machine: { vcpus: [2], devices: 1, msix: true },
  actors: {
    d0v0(x) { x.remove(x.dev(0)); x.resume(); },
    d0v1(x) { x.msixWrite(x.dev(0), 0, x.regs.PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, 0xfee00000); x.resume(); },
  },
  expect: {
    // ok only when the whole write comes before the removal.
    baseline: {
      expected: [
        { outcome: 'use-after-free', where: 'msix_find' },   // the freed msix still on the list (or freed mid-walk)
        { outcome: 'use-after-free', where: 'msix_write' },  // found, then msix/vpci freed before the lock
        { outcome: 'use-after-free', where: 'get_entry' },   // the same read in compiled msix.c's get_entry (4.17.5 msix.c:182-188)
        { outcome: 'use-after-free', where: 'spin_lock' },   // queued on vpci->lock while removal frees the handlers
      ],
      acceptable: ['ok'],
    },
    cancel: {                                                // B.2 cancels pending work only: as baseline
      expected: [
        { outcome: 'use-after-free', where: 'msix_find' },
        { outcome: 'use-after-free', where: 'msix_write' },
        { outcome: 'use-after-free', where: 'get_entry' },   // the same read in compiled msix.c's get_entry (4.17.5 msix.c:182-188)
        { outcome: 'use-after-free', where: 'spin_lock' },
      ],
      acceptable: ['ok'],
    },
    'cancel-all': {                                          // B.5: removal no longer takes vpci->lock, which
      expected: [                                            // msix.c still uses; nothing orders the two
        { outcome: 'use-after-free', where: 'msix_find' },
        { outcome: 'use-after-free', where: 'msix_write' },
        { outcome: 'use-after-free', where: 'get_entry' },   // the same read in compiled msix.c's get_entry (4.17.5 msix.c:182-188)
        { outcome: 'use-after-free', where: 'spin_lock' },   // the lock word dies with vpci, unlocked
      ],
      acceptable: ['ok'],
    },
    // pcidevs_lock around the whole intercept orders it against removal, but the freed table stays on the list.
    pcidevs: { expected: [{ outcome: 'use-after-free', where: 'msix_find' }], acceptable: ['ok'] },
    // The intercept as a reader of d->vpci_rwlock: removal waits (or restarts) for it; the list keeps the freed table.
    'rwlock-trylock': { expected: [{ outcome: 'use-after-free', where: 'msix_find' }], acceptable: ['ok'] },
    // HEAD (C.2): msix_write holds d->pci_lock for reading from msix_find to the entry write (msix.c:487-584);
    // pci_remove_device holds it for writing across vpci_deassign_device, whose cleanup_msix unlinks the table before
    // freeing it (msix.c:672-677). The write lands before the removal, or finds no table afterwards (X86EMUL_RETRY,
    // then msix_accept declines and the null handler drops it). No access touches alldevs_list.
    upstream: { expected: ['ok'] },
    'upstream-drain': { expected: ['ok'] },
  },
});
