// xen/drivers/vpci/header.c at HEAD (c447b7308b), model document C.3: per-BAR rangesets (622bdd9628), the pending
// slot reduced to {pdev, cmd, rom_only}, vpci_process_pending under d->pci_lock read, modify_bars under the write
// lock, bars_mapped. Line numbers below are header.c at c447b7308b. Not modelled: pci_check_bar and
// pci_sanitize_bar_memory (the lab's BARs all sit in the MMIO hole), iomem_access_permitted and the XSM hook in
// map_range (always granted), bridges, dom_xen (no hidden devices).

import { M } from '../../mem/machine.js';
import { chk, chkMember, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_lock, spin_unlock } from '../../sync/spinlock.js';
import { read_lock, read_unlock, write_lock, write_unlock, rw_is_write_locked } from '../../sync/rwlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { record, EV } from '../../trace/recorder.js';
import { pci_conf_write16, pci_conf_write32 } from '../../hw/index.js';
import { PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_COMMAND_INTX_DISABLE, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE, PCI_ROM_ADDRESS_MASK } from '../../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, VPCI, VCPU, VPCI_MSIX, BAR, BAR_WORDS, NR_BARS, ERESTART, VPCI_BAR_ROM, VPCI_MSIX_MEM_NUM, XEN_PAGE_SHIFT } from '../types.js';
import { vmsix_table_addr, vmsix_table_size } from '../vmsix.js';
import { XEN, xen, current, system_state, SYS_STATE_active, general_preempt_check, dom_xen, hardware_domain } from '../state.js';
import { rangeset_add_range, rangeset_remove_range, rangeset_overlaps_range, rangeset_consume_ranges, rangeset_is_empty, rangeset_purge } from '../rangeset.js';
import { domain_crash } from '../domain.js';
import { bar, MAPPABLE_BAR } from '../bars.js';
import { map_mmio_regions, unmap_mmio_regions } from '../p2m.js';
import { fn } from '../fn.js';
import { list_next } from '../list.js';
import type { DomainPtr, PciDevPtr, VcpuPtr } from '../types.js';

const pciLock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.pci_lock;
const vpciOf = (pdev: number, where: string): number => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
const u64 = (b: number, lo: number): number => (M[b + lo + 1] >>> 0) * 2 ** 32 + (M[b + lo] >>> 0);
export const addrOf = (b: number): number => u64(b, BAR.addr_lo);
export const guestAddrOf = (b: number): number => u64(b, BAR.guest_addr_lo);
const sizeOf = (b: number): number => u64(b, BAR.size_lo);
export const set64 = (b: number, lo: number, a: number): void => { M[b + lo] = a % 2 ** 32; M[b + lo + 1] = Math.floor(a / 2 ** 32); };
const PAGE_SIZE = 2 ** XEN_PAGE_SHIFT;                  // once: `2 ** shift` of a variable is a pow call per use
const PFN_DOWN = (a: number): number => Math.floor(a / PAGE_SIZE);
const PAGE_OFFSET = (a: number): number => a % PAGE_SIZE;
/** Guest frames [start, end] of a BAR (header.c:336-337). */
export const guestFrames = (b: number): [number, number] => [PFN_DOWN(guestAddrOf(b)), PFN_DOWN(guestAddrOf(b) + sizeOf(b) - 1)];

/** modify_decoding (header.c:119-175): bars_mapped follows the COMMAND write (header.c:171). */
export function modify_decoding(pdev: PciDevPtr, cmd: number, rom_only: boolean): void {
  const where = 'modify_decoding';
  const vpci = vpciOf(pdev, where);
  const map = (cmd & PCI_COMMAND_MEMORY) !== 0;
  for (let i = 0; i < NR_BARS; i++) {
    const b = bar(vpci, i);
    if (!MAPPABLE_BAR(b)) continue;
    if (rom_only && M[b + BAR.type] === VPCI_BAR_ROM) {
      M[b + BAR.enabled] = map ? 1 : 0;                  // pci_check_bar: always true here
      M[vpci + VPCI.rom_enabled] = map ? 1 : 0;
      pci_conf_write32(M[pdev + PCI_DEV.sbdf], PCI_ROM_ADDRESS, (M[b + BAR.addr_lo] | (map ? PCI_ROM_ADDRESS_ENABLE : 0)) >>> 0);
      return;
    }
    if (!rom_only && (M[b + BAR.type] !== VPCI_BAR_ROM || M[vpci + VPCI.rom_enabled])) M[b + BAR.enabled] = map ? 1 : 0;
  }
  // header.c:155-166: keep the MSI-X table and PBA trapping once decoding is on (its FIXME: racy for DomUs).
  if (map && !rom_only && fn.vpci_make_msix_hole(pdev)) return;
  chk(pdev, PCI_DEV, where);
  chk(vpci, VPCI, where, 'write');
  ASSERT(!rom_only, where, 'unreachable: rom_only without a ROM BAR');   // header.c:173-174
  pci_conf_write16(M[pdev + PCI_DEV.sbdf], PCI_COMMAND, cmd);
  M[vpci + VPCI.bars_mapped] = map ? 1 : 0;
}

/** map_range (header.c:42-112): guest frame s maps to host frame start_mfn + (s - start_gfn) of the BAR. */
export function map_range(d: DomainPtr, map: boolean, s: number, e: number, consumed: { c: number }, b = 0): number {
  ASSERT(b !== 0, 'map_range', 'map->bar');
  chkMember(b, BAR_WORDS, 'map_range');
  const start_gfn = PFN_DOWN(guestAddrOf(b)), start_mfn = PFN_DOWN(addrOf(b));
  yield_point(SITE.map_range);
  for (;;) {
    const size = e - s + 1;
    const map_mfn = start_mfn + s - start_gfn;
    // iomem_access_permitted and xsm_iomem_mapping_vpci (header.c:63-78): always granted in the lab.
    const rc = map ? map_mmio_regions(d, s, size, map_mfn) : unmap_mmio_regions(d, s, size, map_mfn);
    if (rc === 0) { consumed.c += size; return 0; }
    if (rc < 0) return rc;
    ASSERT(rc < size, 'map_range', 'rc < size');
    consumed.c += rc;
    s += rc;
    if (general_preempt_check()) { yield_point(SITE['map_range:preempt']); return ERESTART; }
  }
}

/**
 * vpci_process_pending (header.c:177-249), in HEAD's order: the slot is read BEFORE d->pci_lock is taken (179 vs
 * 186), so the pdev it names may be freed while this vCPU waits for the lock; step 3 (188) then reads through it.
 */
export function vpci_process_pending(v: VcpuPtr): boolean {
  const pdev = M[chk(v, VCPU, 'vpci_process_pending') + VCPU.vpci_pdev] as PciDevPtr;   // header.c:179
  if (pdev === NULL) return false;
  yield_point(SITE['vpci_process_pending:before-lock']);
  const d = M[v + VCPU.domain] as DomainPtr;
  read_lock(pciLock(d, 'vpci_process_pending'));                         // header.c:186
  return process_pending_locked(v, pdev, d);
}

/**
 * header.c:188-248, with v->domain->pci_lock held for reading (released before returning). Not a Xen function:
 * the lab's drain proposal reuses it after loading the slot under the lock.
 */
export function process_pending_locked(v: number, pdev: PciDevPtr, d: DomainPtr): boolean {
  const where = 'vpci_process_pending';
  chk(v, VCPU, where);
  chk(d, DOMAIN, where);
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] === NULL || d !== M[pdev + PCI_DEV.domain]) {   // header.c:188
    M[v + VCPU.vpci_pdev] = NULL;
    read_unlock(d + DOMAIN.pci_lock);
    return false;
  }
  const vpci = vpciOf(pdev, where);
  const map = (M[v + VCPU.vpci_cmd] & PCI_COMMAND_MEMORY) !== 0;
  for (let i = 0; i < NR_BARS; i++) {
    const b = bar(chk(vpci, VPCI, where), i);
    if (rangeset_is_empty(M[b + BAR.mem])) continue;
    const rc = rangeset_consume_ranges(M[b + BAR.mem], (s, e, c) => fn.map_range(d, map, s, e, c, b));
    if (rc === ERESTART) { read_unlock(d + DOMAIN.pci_lock); return true; }   // header.c:211-215
    if (rc) {
      yield_point(SITE['vpci_process_pending:failed']);
      spin_lock(vpci + VPCI.lock);
      fn.modify_decoding(pdev, M[v + VCPU.vpci_cmd] & ~PCI_COMMAND_MEMORY, false);   // header.c:221
      spin_unlock(vpci + VPCI.lock);
      chk(vpci, VPCI, where, 'write');
      for (let j = 0; j < NR_BARS; j++) rangeset_purge(M[bar(vpci, j) + BAR.mem]);
      M[v + VCPU.vpci_pdev] = NULL;
      read_unlock(d + DOMAIN.pci_lock);
      if (!M[d + DOMAIN.is_hardware_domain]) domain_crash(d, where);    // header.c:234-235
      return false;
    }
  }
  yield_point(SITE['vpci_process_pending:after-consume']);
  M[v + VCPU.vpci_pdev] = NULL;                                          // header.c:240
  spin_lock(vpci + VPCI.lock);
  fn.modify_decoding(pdev, M[v + VCPU.vpci_cmd], M[v + VCPU.vpci_rom_only] !== 0);
  spin_unlock(vpci + VPCI.lock);
  Atomics.add(M, xen(XEN.pending_done), 1);
  read_unlock(d + DOMAIN.pci_lock);
  return false;
}

/** apply_map (header.c:251-285, __init): boot-time, synchronous; drops the lock around softirqs. */
export function apply_map(d: DomainPtr, pdev: PciDevPtr, cmd: number): number {
  const where = 'apply_map';
  ASSERT(() => rw_is_write_locked(pciLock(d, where)), where, 'rw_is_write_locked(&d->pci_lock)');
  const vpci = vpciOf(pdev, where);
  let rc = 0;
  for (let i = 0; i < NR_BARS; i++) {
    const b = bar(chk(vpci, VPCI, where), i);
    if (rangeset_is_empty(M[b + BAR.mem])) continue;
    while ((rc = rangeset_consume_ranges(M[bar(chk(vpci, VPCI, where), i) + BAR.mem], (s, e, c) => fn.map_range(d, true, s, e, c, b))) === ERESTART) {
      write_unlock(d + DOMAIN.pci_lock);      // process_pending_softirqs()
      write_lock(d + DOMAIN.pci_lock);
    }
  }
  if (!rc) fn.modify_decoding(pdev, cmd, false);
  return rc;
}

/** defer_map (header.c:287-306): into *current*'s slot, whichever domain current belongs to (the FIXME stands). */
export function defer_map(pdev: PciDevPtr, _mem: number, cmd: number, rom_only: boolean): void {
  const curr = chk(current(), VCPU, 'defer_map');
  M[curr + VCPU.vpci_pdev] = pdev;
  M[curr + VCPU.vpci_cmd] = cmd;
  M[curr + VCPU.vpci_rom_only] = rom_only ? 1 : 0;
  M[curr + VCPU.softirq_pending] = 1;      // raise_softirq(SCHEDULE_SOFTIRQ)
  record(EV.NOTE, SITE.defer_map, pdev);
  yield_point(SITE.defer_map);
}

/** Fill the wanted BARs' rangesets (header.c:331-406); rc, or 0. */
export function fill_own_bars(pdev: number, vpci: number, cmd: number, rom_only: boolean, where: string): number {
  for (let i = 0; i < NR_BARS; i++) {
    const b = bar(chk(vpci, VPCI, where), i);
    if (M[b + BAR.mem] === NULL) continue;
    const type = M[b + BAR.type];
    if (!MAPPABLE_BAR(b) || (rom_only ? type !== VPCI_BAR_ROM : type === VPCI_BAR_ROM && !M[vpci + VPCI.rom_enabled]) ||
        M[b + BAR.enabled] === ((cmd & PCI_COMMAND_MEMORY) ? 1 : 0)) continue;   // header.c:345-346
    ASSERT(() => rangeset_is_empty(M[b + BAR.mem]), where, 'rangeset_is_empty(bar->mem)');   // header.c:357
    if (PAGE_OFFSET(guestAddrOf(b)) !== PAGE_OFFSET(addrOf(b))) return -22;          // header.c:364-370, -EINVAL
    const [s, e] = guestFrames(b);
    let rc = rangeset_add_range(M[b + BAR.mem], s, e);
    if (rc) return rc;
    for (let j = 0; j < i; j++) {                                                      // header.c:381-396
      const pm = M[bar(chk(vpci, VPCI, where), j) + BAR.mem];
      if (rangeset_is_empty(pm)) continue;
      rc = rangeset_remove_range(pm, s, e);
      if (rc) return rc;
    }
  }
  void pdev;
  return 0;
}

/** header.c:408-431: the MSI-X table and PBA frames stay out of every BAR's rangeset, so that they keep trapping. */
export function remove_msix_regions(vpci: number): number {
  const where = 'modify_bars';
  if (M[chk(vpci, VPCI, where) + VPCI.msix] === NULL) return 0;
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
    const a = vmsix_table_addr(vpci, i, where, BAR.guest_addr_lo);
    const start = PFN_DOWN(a), end = PFN_DOWN(a + vmsix_table_size(vpci, i, where) - 1);
    for (let j = 0; j < NR_BARS; j++) {
      const mem = M[bar(chk(vpci, VPCI, where), j) + BAR.mem];
      if (rangeset_is_empty(mem)) continue;
      const rc = rangeset_remove_range(mem, start, end);
      if (rc) return rc;                                   // gprintk: failed to remove MSIX table
    }
  }
  return 0;
}

/** Subtract tmp's enabled BARs from pdev's rangesets (header.c:459-493). */
export function subtract_device(pdev: number, vpci: number, tmp: number, rom_only: boolean, where: string): number {
  const tv = vpciOf(tmp, where);
  for (let i = 0; i < NR_BARS; i++) {
    const rb = bar(chk(tv, VPCI, where), i);
    if (!M[rb + BAR.enabled]) continue;
    const [s, e] = guestFrames(rb);
    for (let j = 0; j < NR_BARS; j++) {
      const b = bar(chk(vpci, VPCI, where), j);
      if (!rangeset_overlaps_range(M[b + BAR.mem], s, e)) continue;
      chk(vpci, VPCI, where);                 // the rangeset's lock let other CPUs run
      if (rom_only && tmp === pdev && M[b + BAR.type] === VPCI_BAR_ROM) continue;
      const rc = rangeset_remove_range(M[b + BAR.mem], s, e);
      if (rc) return rc;
    }
  }
  return 0;
}

/** modify_bars (header.c:308-519): caller holds pdev->domain->pci_lock for writing. */
export function modify_bars(pdev: PciDevPtr, cmd: number, rom_only: boolean): number {
  const where = 'modify_bars';
  const vpci = vpciOf(pdev, where);
  const d = M[pdev + PCI_DEV.domain] as DomainPtr;
  ASSERT(() => rw_is_write_locked(pciLock(d, where)), where, 'rw_is_write_locked(&pdev->domain->pci_lock)');   // header.c:317
  let rc = fill_own_bars(pdev, vpci, cmd, rom_only, where);
  if (!rc) rc = remove_msix_regions(vpci);
  if (rc) return rc;
  // header.c:438-500: the owner's devices, and for hwdom dom_xen's too (465217b0f8), with only the owner's lock.
  for (let od = d !== dom_xen() ? d : hardware_domain(); ; od = dom_xen()) {
    for (let tmp = M[chk(od, DOMAIN, where) + DOMAIN.pdev_list]; tmp !== NULL; tmp = list_next(tmp, PCI_DEV.domain_next, where)) {
      yield_point(SITE['modify_bars:for_each_pdev']);
      if (M[chk(tmp, PCI_DEV, where) + PCI_DEV.vpci] === NULL) continue;   // header.c:442 (ee045f3a4a)
      if (tmp === pdev && !rom_only) continue;                               // header.c:451
      rc = subtract_device(pdev, vpci, tmp, rom_only, where);
      if (rc) return rc;
    }
    if (M[od + DOMAIN.is_hardware_domain] === 0) break;                    // header.c:496-499
  }
  if (system_state() < SYS_STATE_active) {
    ASSERT(() => (cmd & PCI_COMMAND_MEMORY) !== 0 && !rom_only, where, '(cmd & PCI_COMMAND_MEMORY) && !rom_only');
    return apply_map(d, pdev, cmd);
  }
  fn.defer_map(pdev, 0, cmd, rom_only);
  return 0;
}

/** cmd_write (header.c:521-552): compares with bars_mapped, not with the hardware. */
export function cmd_write(pdev: PciDevPtr, reg: number, cmd: number): void {
  const where = 'cmd_write';
  yield_point(SITE.cmd_write);
  const vpci = vpciOf(pdev, where);
  if (!M[chk(M[pdev + PCI_DEV.domain], DOMAIN, where) + DOMAIN.is_hardware_domain]) {
    const msix = M[vpci + VPCI.msix];                     // no MSI modelled (header.c:530-532)
    if (msix !== NULL && M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.enabled]) cmd |= PCI_COMMAND_INTX_DISABLE;
    M[vpci + VPCI.guest_cmd] = cmd;
  }
  if (M[vpci + VPCI.bars_mapped] !== ((cmd & PCI_COMMAND_MEMORY) ? 1 : 0)) fn.modify_bars(pdev, cmd, false);   // error ignored
  else pci_conf_write16(M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf], reg, cmd);
}

/** guest_cmd_read (header.c:554-560). */
export function guest_cmd_read(pdev: PciDevPtr): number { return M[vpciOf(pdev, 'guest_cmd_read') + VPCI.guest_cmd]; }

/** rom_write (header.c:677-733): rom->enabled and bars_mapped decide, not the hardware COMMAND. */
export function rom_write(pdev: PciDevPtr, reg: number, val: number, data: number): void {
  const where = 'rom_write';
  const vpci = vpciOf(pdev, where);
  const rom = bar(vpci, data);
  const new_enabled = (val & PCI_ROM_ADDRESS_ENABLE) !== 0;
  const enabled = M[rom + BAR.enabled] !== 0;
  yield_point(SITE.rom_write);
  chk(pdev, PCI_DEV, where);
  chk(vpci, VPCI, where, 'write');
  if (enabled && new_enabled) return;                      // ignored ROM BAR write while mapped
  const addr = (val & PCI_ROM_ADDRESS_MASK) >>> 0;
  if (!enabled) { set64(rom, BAR.addr_lo, addr); set64(rom, BAR.guest_addr_lo, addr); }
  if (!M[vpci + VPCI.bars_mapped] || enabled === new_enabled) {
    M[vpci + VPCI.rom_enabled] = new_enabled ? 1 : 0;
    pci_conf_write32(M[pdev + PCI_DEV.sbdf], reg, val >>> 0);
  } else if (fn.modify_bars(pdev, new_enabled ? PCI_COMMAND_MEMORY : 0, true)) {
    return;                                                // header.c:717-726: keep rom->addr for a retried unmap
  }
  chk(vpci, VPCI, where, 'write');
  if (!new_enabled) { set64(rom, BAR.addr_lo, addr); set64(rom, BAR.guest_addr_lo, addr); }
}
