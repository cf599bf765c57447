// The model's structs, laid out once in words (lib/mem/layout). Field names follow Xen's; comments give the
// Xen header each one comes from. Pointers are heap word offsets, 0 = NULL.

import { defineStruct, type Ptr } from '../mem/layout.js';
import { SPINLOCK_WORDS } from '../sync/spinlock.js';
import { RWLOCK_WORDS } from '../sync/rwlock.js';

/** Pointers to the model's structs (lib/mem/layout.ts Ptr): a pdev cannot be passed where a vcpu is expected. */
export type PciDevPtr = Ptr<'pci_dev'>;
export type VcpuPtr = Ptr<'vcpu'>;
export type DomainPtr = Ptr<'domain'>;
export type VpciPtr = Ptr<'vpci'>;
export type VpciMsixPtr = Ptr<'vpci_msix'>;
export type RangesetPtr = Ptr<'rangeset'>;
export type { Ptr };

export const MAX_VCPUS = 8;
export const MAX_DOMAINS = 8;
export const RANGESET_MAX = 16;          // ranges one rangeset can hold in the model; more is -ENOMEM
export const PCI_HEADER_NORMAL_NR_BARS = 6;
export const NR_BARS = PCI_HEADER_NORMAL_NR_BARS + 1; // + ROM slot, as header.bars[7]

/** struct domain (xen/include/xen/sched.h), with the fields the strategies add. */
export const DOMAIN = defineStruct('domain', {
  domain_id: 1,
  is_hardware_domain: 1,
  has_vpci: 1,
  is_crashed: 1,              // domain_crash() was called
  pdev_list: 1,               // first pci_dev on this domain's list (linked through pci_dev.domain_next)
  max_vcpus: 1,
  vcpu: MAX_VCPUS,            // struct vcpu *vcpu[]
  p2m_index: 1,               // which p2m table (lib/xen/p2m) belongs to this domain
  pci_lock: RWLOCK_WORDS,     // upstream: d->pci_lock
  vpci_rwlock: RWLOCK_WORDS,  // 19 Nov 2021 proposal: d->vpci_rwlock
  vpci_terminating: 1,        // 19 Nov 2021 proposal: d->vpci_terminating
  msix_tables: 1,             // d->arch.hvm.msix_tables: first vpci_msix (linked through vpci_msix.next/prev)
  msix_mmio_handler: 1,       // register_mmio_handler(d, &vpci_msix_table_ops) done (never undone)
});

/**
 * struct vcpu with its vPCI pending slot v->vpci = struct vpci_vcpu (xen/include/xen/vpci.h L21 142-148). HEAD's
 * struct vpci_vcpu (vpci.h HEAD 155-160) has only pdev, cmd and rom_only: pending = pdev != NULL, vpci_mem unused.
 */
export const VCPU = defineStruct('vcpu', {
  vcpu_id: 1,
  domain: 1,
  vpci_mem: 1,                // struct rangeset *mem: frames still to (un)map; NULL = nothing pending
  vpci_pdev: 1,               // struct pci_dev *pdev (raw pointer)
  vpci_cmd: 1,                // uint16_t cmd to apply once the mapping is done
  vpci_rom_only: 1,
  softirq_pending: 1,         // SCHEDULE_SOFTIRQ raised by defer_map: do not enter the guest first
  continuation: 1,            // a hypercall continuation is pending (id of the hypercall to re-issue)
});

/** struct pci_dev (xen/include/xen/pci.h) plus the per-device lock of the v5 series (cancel-all). */
export const PCI_DEV = defineStruct('pci_dev', {
  sbdf: 1,
  domain: 1,                  // struct domain * (NULL while unowned)
  vpci: 1,                    // struct vpci *
  alldevs_next: 1,            // pseg->alldevs_list
  domain_next: 1,             // d->pdev_list
  ignore_bars: 1,
  quarantine: 1,              // bool quarantine: the toolstack assigned it to dom_io (pci-assignable-add)
  vpci_lock: SPINLOCK_WORDS,  // v5: pdev->vpci_lock, outside struct vpci so it survives xfree(vpci)
  vpci_cancel_pending: 1,     // v5: flag set by vpci_remove_device_locked
});

/**
 * struct vpci_bar (xen/include/xen/vpci.h). Addresses and sizes are 64-bit: two words each. `guest_addr` and `mem`
 * are HEAD only (vpci.h HEAD 50-57: the guest address of a DomU's BAR, and the per-BAR rangeset of 622bdd9628 that
 * replaced L21's v->vpci.mem); the L21 generation leaves them 0.
 */
export const BAR = {
  addr_lo: 0, addr_hi: 1, size_lo: 2, size_hi: 3, type: 4, prefetchable: 5, enabled: 6,
  guest_addr_lo: 7, guest_addr_hi: 8, mem: 9,
} as const;
export const BAR_WORDS = 10;
export const VPCI_BAR_EMPTY = 0, VPCI_BAR_IO = 1, VPCI_BAR_MEM32 = 2, VPCI_BAR_MEM64_LO = 3, VPCI_BAR_MEM64_HI = 4, VPCI_BAR_ROM = 5;

/** struct vpci: the handler list, the lock embedded in it (freed with it), and header state. */
export const VPCI = defineStruct('vpci', {
  handlers: 1,                // first vpci_register, kept sorted by offset
  lock: SPINLOCK_WORDS,       // spinlock_t lock — lives inside the object, dies with xfree(pdev->vpci)
  bars: NR_BARS * BAR_WORDS,  // header.bars[7]
  rom_enabled: 1,             // header.rom_enabled
  msix: 1,
  msi: 1,
  bars_mapped: 1,             // HEAD only: header.bars_mapped, set by modify_decoding when it writes COMMAND
  guest_cmd: 1,               // HEAD only: header.guest_cmd, the COMMAND value a DomU reads back
});

/**
 * struct vpci_msix (vpci.h L21 114-140), followed in the same block by max_entries struct vpci_msix_entry of
 * MSIX_ENTRY_WORDS each (the flexible array entries[]). `table` holds HEAD's ioremap()ed pages (msix.c get_table).
 */
export const VPCI_MSIX = defineStruct('vpci_msix', {
  pdev: 1,
  next: 1,                    // struct list_head next: the domain's list, doubly linked; prev 0 = first
  prev: 1,
  tables: 2,                  // tables[VPCI_MSIX_TABLE], tables[VPCI_MSIX_PBA]: offset | BIR as read at init
  max_entries: 1,
  enabled: 1,
  masked: 1,
  table: 4,                   // HEAD: void __iomem *table[VPCI_MSIX_MEM_NUM * 2]
});
export const VPCI_MSIX_TABLE = 0, VPCI_MSIX_PBA = 1, VPCI_MSIX_MEM_NUM = 2;
/** struct vpci_msix_entry: 64-bit addr as two words, data, masked, updated, and arch.pirq (INVALID_PIRQ = -1). */
export const MSIX_ENTRY = { addr_lo: 0, addr_hi: 1, data: 2, masked: 3, updated: 4, arch_pirq: 5 } as const;
export const MSIX_ENTRY_WORDS = 6;
export const INVALID_PIRQ = -1;

/** struct vpci_msi (vpci.h L21 92-112), without the arch part beyond its PIRQ: the lab binds no interrupt. */
export const VPCI_MSI = defineStruct('vpci_msi', {
  address_lo: 1,
  address_hi: 1,
  data: 1,
  mask: 1,
  vectors: 1,
  address64: 1,
  masking: 1,
  enabled: 1,
  arch_pirq: 1,
  arch_bound: 1,              // HEAD vmsi.c: msi->arch.bound, the PIRQs are bound (pt_irq_create_bind succeeded)
});

/** struct vpci_register (vpci.c L21 24-31): handlers are small integers naming functions (lib/xen/handlers). */
export const VPCI_REGISTER = defineStruct('vpci_register', {
  next: 1,
  read: 1,
  write: 1,
  size: 1,
  offset: 1,
  private: 1,
  ro_mask: 1,                 // HEAD only (a3c8fb450a): vpci_add_register_mask's four masks
  rw1c_mask: 1,
  rsvdp_mask: 1,
  rsvdz_mask: 1,
});

/** struct rangeset with its own rwlock; ranges [s, e] of page frames, sorted, disjoint. */
export const RANGESET = defineStruct('rangeset', {
  lock: RWLOCK_WORDS,
  nr: 1,
  ranges: RANGESET_MAX * 2,
});

/** A 32-bit cell used as `private` storage by test register handlers (tools/tests/vpci). */
export const U32_CELL = defineStruct('u32_cell', { val: 1 });

// errno values as Xen returns them (negative).
export const EPERM = -1, ENOENT = -2, EIO = -5, ENOMEM = -12, EBUSY = -16, EEXIST = -17, ENODEV = -19, EINVAL = -22, ERANGE = -34, EOPNOTSUPP = -95, ERESTART = -85;

export const XEN_PAGE_SHIFT = 12;

// x86_emulate.h: what an MMIO intercept returns.
export const X86EMUL_OKAY = 0, X86EMUL_UNHANDLEABLE = 1, X86EMUL_RETRY = 3;
/** An MMIO access's value: unsigned long *data, as two 32-bit halves (hi is 0 for 4-byte accesses). */
export interface MmioData { lo: number; hi: number }

export const LOCK_CLASSES = [
  'pcidevs_lock', 'd->pci_lock', 'd->vpci_rwlock', 'vpci->lock', 'pdev->vpci_lock', 'rangeset->lock',
] as const;
