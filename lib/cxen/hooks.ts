// What the compiled C asks of the lab, one synchronous call each (native/cx.h enum cx_op, the same order): Xen's
// lock operations run the lab's lock code on the lock words inside C's structs (the same yield points, classes,
// profiling and lockdep as the TypeScript model), allocations come from the lab's checked heap, config space from
// the emulated hardware, the p2m is the lab's. `site` names the C function a call came from (its pc).

import { M, LAYOUT } from '../mem/machine.js';
import { defineStruct } from '../mem/layout.js';
import { xzalloc_words, xfree } from '../mem/heap.js';
import { spin_lock_init, spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_lock_recursive, spin_unlock_recursive } from '../sync/spinlock.js';
import { rwlock_init, read_lock, read_unlock, write_lock, write_unlock, rw_is_locked, rw_is_write_locked } from '../sync/rwlock.js';
import { pci_conf_read, pci_conf_write } from '../hw/config.js';
import { msix_entry_write, mmio_read32, mmio_write32 } from '../hw/msix.js';
import { map_mmio_regions, unmap_mmio_regions, p2m_lookup, clear_identity_p2m_entry } from '../xen/p2m.js';
import { general_preempt_check } from '../xen/state.js';
import { domain_crash } from '../xen/domain.js';
import { init_fault_point } from '../xen/fault.js';
import { VCPU, DOMAIN, type PciDevPtr } from '../xen/types.js';
import { fn } from '../xen/fn.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { NotSupplied } from './not-supplied.js';

/** Every block the C allocates: one type for the heap's tags (the C knows its own types). */
export const C_BLOCK = defineStruct('c_block', { data: 1 });

/** Which lock class a lock initialised in a C function belongs to (lib/xen/types.ts LOCK_CLASSES). */
const CLASS_BY_INIT: Record<string, string> = {
  vpci_add_handlers: 'vpci->lock', vpci_assign_device: 'vpci->lock', rangeset_new: 'rangeset->lock',
  // d->rangesets_lock (rangeset.c's list of a domain's rangesets): the model keeps no such list; classed with them.
  cx_domain_create: 'rangeset->lock',
};
function classOf(fn: string): number {
  const name = CLASS_BY_INIT[fn];
  const i = name ? LAYOUT.lockClasses.indexOf(name) : -1;
  return i < 0 ? 0 : i;
}

type Hook = (op: number, a: number, b: number, c: number, pc: number, d: number) => number;

/*
 * Where the compiled C lets another CPU in. The lab's lock acquisitions are yield points already; in C every
 * instruction can interleave, so the C backend adds the points where its effects become visible to others: after
 * every lock release, after every free, after a config-space write, at each p2m update (map_range), at a softirq
 * raised by defer_map, after a device lookup returns (glue.c cx_pci_get_pdev_yield), where the TypeScript
 * pci.c yields (pci-glue.c: around the IOMMU's add_device, at pci_cleanup_msi and pdev_msi_deinit in removal), and
 * at each node of the list walks the model yields in (xen-shim.h list_for_each_entry: pci_get_pdev's alldevs_list,
 * modify_bars' for_each_pdev, msix_find). Between two of these a CPU runs alone.
 */
const C_YIELD = [SITE.pci_get_pdev, SITE['pci_add_device:before-iommu_add_device'], SITE['pci_add_device:iommu-failed'],
  SITE['pci_remove_device:after-vpci'], SITE['pci_remove_device:before-free'], SITE['modify_bars:for_each_pdev'], SITE.msix_find];

export function hookFor(site: (pc: number) => string): Hook {
  const b2n = (v: boolean): number => (v ? 1 : 0);
  const ops: Array<(a: number, b: number, c: number, pc: number, d: number) => number> = [
    (l, _b, _c, pc) => { spin_lock_init(l, classOf(site(pc))); return 0; },
    (l) => { spin_lock(l); return 0; },
    (l) => { spin_unlock(l); yield_point(SITE['c:after-unlock']); return 0; },
    (l) => b2n(spin_trylock(l)),
    (l) => b2n(spin_is_locked(l)),
    (l) => { spin_lock_recursive(l); return 0; },
    (l) => { spin_unlock_recursive(l); yield_point(SITE['c:after-unlock']); return 0; },
    (l, _b, _c, pc) => { rwlock_init(l, classOf(site(pc))); return 0; },
    (l) => { read_lock(l); return 0; },
    (l) => { read_unlock(l); yield_point(SITE['c:after-unlock']); return 0; },
    (l) => { write_lock(l); return 0; },
    (l) => { write_unlock(l); yield_point(SITE['c:after-unlock']); return 0; },
    (l) => b2n(rw_is_locked(l)),
    (l) => b2n(rw_is_write_locked(l)),
    (words) => xzalloc_words(C_BLOCK, words),
    (p, _b, _c, pc) => { xfree(p, site(pc)); yield_point(SITE['c:after-free']); return 0; },
    (sbdf, reg, size) => pci_conf_read(sbdf, reg, size) >>> 0,
    (sbdf, regSize, val) => { pci_conf_write(sbdf, regSize & 0xffff, regSize >>> 16, val >>> 0); yield_point(SITE['c:conf-write']); return 0; },
    (d, gfn, nr, _pc, mfn) => { yield_point(SITE.map_range); return map_mmio_regions(d, gfn, nr, mfn); },
    (d, gfn, nr, _pc, mfn) => { yield_point(SITE.map_range); return unmap_mmio_regions(d, gfn, nr, mfn); },
    () => b2n(general_preempt_check()),
    (v) => { if (v) M[v + VCPU.softirq_pending] = 1; yield_point(SITE.defer_map); return 0; },
    (d, _b, _c, pc) => { domain_crash(d, site(pc)); return 0; },
    (kind) => { yield_point(C_YIELD[kind] ?? SITE.scenario); return 0; },
    (hook) => b2n(init_fault_point(hook)),
    (pdev) => fn.iommu_add_device(pdev as PciDevPtr),
    (_a, _b, _c, pc) => { throw new NotSupplied(site(pc), 'a stub of the lab\'s C runtime'); },
    (sbdf, nrOff, val) => { msix_entry_write(sbdf, nrOff >>> 16, nrOff & 0xffff, val >>> 0); return 0; },
    (d) => { M[d + DOMAIN.msix_mmio_handler]++; return 0; },
    (pa) => mmio_read32(pa) >>> 0,
    (pa, val) => { mmio_write32(pa, val >>> 0); return 0; },
    (d, gfn) => p2m_lookup(d, gfn),
    (d, gfn) => { clear_identity_p2m_entry(d, gfn); return 0; },
  ];
  return (op, a, b, c, pc, d) => ops[op](a, b, c, pc, d);
}
