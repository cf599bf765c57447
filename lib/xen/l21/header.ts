// xen/drivers/vpci/header.c as of late 2021: BAR sizing at add time, the COMMAND/BAR/ROM write handlers, and the
// deferred map/unmap machinery (modify_bars -> defer_map -> vpci_process_pending -> modify_decoding) whose
// interaction with vpci_remove_device is the race under study.

import { M } from '../../mem/machine.js';
import { chk, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_lock, spin_unlock } from '../../sync/spinlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { record, EV } from '../../trace/recorder.js';
import { pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write16, pci_conf_write32 } from '../../hw/index.js';
import {
  PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_HEADER_TYPE, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_IO,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_MEM_TYPE_32, PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_MASK, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE, PCI_ROM_ADDRESS_MASK,
} from '../../hw/pci_regs.js';
import {
  DOMAIN, PCI_DEV, VPCI, VCPU, BAR, BAR_WORDS, NR_BARS, PCI_HEADER_NORMAL_NR_BARS, ENOMEM, EOPNOTSUPP, ERESTART,
  VPCI_BAR_EMPTY, VPCI_BAR_IO, VPCI_BAR_MEM32, VPCI_BAR_MEM64_LO, VPCI_BAR_MEM64_HI, VPCI_BAR_ROM, XEN_PAGE_SHIFT,
  VPCI_MSIX_MEM_NUM,
} from '../types.js';
import { bar, addrOf, sizeOf, setAddr, PFN_DOWN, MAPPABLE_BAR, barFrames } from '../bars.js';
import { vmsix_table_addr, vmsix_table_size } from '../vmsix.js';
import { XEN, xen, current, system_state, SYS_STATE_active, general_preempt_check } from '../state.js';
import { HANDLER } from '../handlers.js';
import { rangeset_new, rangeset_destroy, rangeset_add_range, rangeset_remove_range, rangeset_overlaps_range, rangeset_consume_ranges } from '../rangeset.js';
import { map_mmio_regions, unmap_mmio_regions } from '../p2m.js';
import { pci_size_mem_bar, PCI_BAR_LAST, PCI_BAR_ROM } from '../pci.js';
import { vpci_add_register } from './vpci.js';
import { fn } from '../fn.js';
import { list_next } from '../list.js';
import type { DomainPtr, PciDevPtr, VcpuPtr, VpciPtr } from '../types.js';

export { bar, MAPPABLE_BAR, barFrames };


const sbdfOf = (pdev: number, where: string): number => M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
const vpciOf = (pdev: number, where: string): number => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);

/** modify_decoding (L21 84-130): the moment BARs become enabled and MEMORY actually flips in hardware. */
export function modify_decoding(pdev: PciDevPtr, cmd: number, rom_only: boolean): void {
  const where = 'modify_decoding';
  const vpci = vpciOf(pdev, where);
  const map = (cmd & PCI_COMMAND_MEMORY) !== 0;
  // No mapping may cover the MSI-X table or PBA once decoding is on, so accesses trap (the FIXME: racy for DomUs).
  if (map && !rom_only && fn.vpci_make_msix_hole(pdev)) return;
  chk(pdev, PCI_DEV, where);
  chk(vpci, VPCI, where, 'write');
  for (let i = 0; i < NR_BARS; i++) {
    const b = bar(vpci, i);
    if (!MAPPABLE_BAR(b)) continue;
    if (rom_only && M[b + BAR.type] === VPCI_BAR_ROM) {
      M[b + BAR.enabled] = M[vpci + VPCI.rom_enabled] = map ? 1 : 0;
      pci_conf_write32(M[pdev + PCI_DEV.sbdf], PCI_ROM_ADDRESS, (M[b + BAR.addr_lo] | (map ? PCI_ROM_ADDRESS_ENABLE : 0)) >>> 0);
      return;
    }
    if (!rom_only && (M[b + BAR.type] !== VPCI_BAR_ROM || M[vpci + VPCI.rom_enabled])) M[b + BAR.enabled] = map ? 1 : 0;
  }
  if (!rom_only) pci_conf_write16(M[pdev + PCI_DEV.sbdf], PCI_COMMAND, cmd);
}

/** map_range (L21 36-77): identity map/unmap with partial progress and preemption (-ERESTART). */
export function map_range(d: DomainPtr, map: boolean, s: number, e: number, consumed: { c: number }): number {
  yield_point(SITE.map_range);
  for (;;) {
    const size = e - s + 1;
    const rc = map ? map_mmio_regions(d, s, size, s) : unmap_mmio_regions(d, s, size, s);
    if (rc === 0) { consumed.c += size; return 0; }
    if (rc < 0) return rc;          // printk(XENLOG_G_WARNING "Failed to identity %smap [%lx, %lx] for d%d: %d\n")
    ASSERT(rc < size, 'map_range', 'rc < size');
    consumed.c += rc;
    s += rc;
    if (general_preempt_check()) { yield_point(SITE['map_range:preempt']); return ERESTART; }
  }
}

/**
 * vpci_process_pending (L21 132-166), the baseline. Strategies replace it through X. `on_failure` is the one step
 * proposals change here (the FIXME): L21 removes the device's vPCI state.
 */
export function vpci_process_pending(v: VcpuPtr, on_failure: (v: VcpuPtr, pdev: PciDevPtr) => void = remove_on_failure): boolean {
  const where = 'vpci_process_pending';
  chk(v, VCPU, where);
  if (M[v + VCPU.vpci_mem] === NULL) return false;
  const d = M[v + VCPU.domain] as DomainPtr;
  const map = (M[v + VCPU.vpci_cmd] & PCI_COMMAND_MEMORY) !== 0;
  const rc = rangeset_consume_ranges(M[v + VCPU.vpci_mem], (s, e, c) => fn.map_range(d, map, s, e, c));
  if (rc === ERESTART) return true;
  yield_point(SITE['vpci_process_pending:after-consume']);
  const pdev = M[v + VCPU.vpci_pdev] as PciDevPtr;
  // The crash site of the seed's path 1: v->vpci.pdev->vpci may be NULL or freed by now.
  const vpci = vpciOf(pdev, where);
  spin_lock(vpci + VPCI.lock);
  const cmd = M[v + VCPU.vpci_cmd];
  fn.modify_decoding(pdev, rc ? cmd & ~PCI_COMMAND_MEMORY : cmd, !rc && M[v + VCPU.vpci_rom_only] !== 0);
  spin_unlock(vpci + VPCI.lock);
  rangeset_destroy(M[v + VCPU.vpci_mem], where);
  M[v + VCPU.vpci_mem] = NULL;
  Atomics.add(M, xen(XEN.pending_done), 1);
  if (rc) {
    yield_point(SITE['vpci_process_pending:failed']);
    on_failure(v, pdev);
  }
  return false;
}

/** FIXME (L21): remove the device on failure; leftover mappings are tolerable for Dom0 only. */
function remove_on_failure(_v: number, pdev: PciDevPtr): void { fn.vpci_remove_device(pdev); }

/** apply_map (__init, L21 168-187): synchronous, during Dom0 build only. */
function apply_map(d: DomainPtr, pdev: PciDevPtr, mem: number, cmd: number): number {
  let rc: number;
  while ((rc = rangeset_consume_ranges(mem, (s, e, c) => fn.map_range(d, true, s, e, c))) === ERESTART) { /* process_pending_softirqs() */ }
  rangeset_destroy(mem, 'apply_map');
  if (!rc) fn.modify_decoding(pdev, cmd, false);
  return rc;
}

/** defer_map (L21 189-204): store the work in *current*'s single slot, overwriting blindly (the FIXME). */
export function defer_map(pdev: PciDevPtr, mem: number, cmd: number, rom_only: boolean): void {
  const curr = chk(current(), VCPU, 'defer_map');
  M[curr + VCPU.vpci_pdev] = pdev;
  M[curr + VCPU.vpci_mem] = mem;
  M[curr + VCPU.vpci_cmd] = cmd;
  M[curr + VCPU.vpci_rom_only] = rom_only ? 1 : 0;
  M[curr + VCPU.softirq_pending] = 1;      // raise_softirq(SCHEDULE_SOFTIRQ)
  record(EV.NOTE, SITE.defer_map, pdev);
  yield_point(SITE.defer_map);
}

/** modify_bars (L21 206-333). */
export function modify_bars(pdev: PciDevPtr, cmd: number, rom_only: boolean): number {
  const where = 'modify_bars';
  const vpci = vpciOf(pdev, where);
  const mem = rangeset_new();
  if (mem === NULL) return ENOMEM;
  for (let i = 0; i < NR_BARS; i++) {
    chk(vpci, VPCI, where);                  // the rangeset's lock below lets other CPUs run
    const b = bar(vpci, i);
    if (!MAPPABLE_BAR(b) || (rom_only ? M[b + BAR.type] !== VPCI_BAR_ROM : M[b + BAR.type] === VPCI_BAR_ROM && !M[vpci + VPCI.rom_enabled])) continue;
    const [s, e] = barFrames(b);
    const rc = rangeset_add_range(mem, s, e);
    if (rc) { rangeset_destroy(mem, where); return rc; }
  }
  // Remove any MSI-X regions if present: they stay trapped.
  for (let i = 0; M[chk(vpci, VPCI, where) + VPCI.msix] !== NULL && i < VPCI_MSIX_MEM_NUM; i++) {
    const a = vmsix_table_addr(vpci, i, where);
    const rc = rangeset_remove_range(mem, PFN_DOWN(a), PFN_DOWN(a + vmsix_table_size(vpci, i, where) - 1));
    if (rc) { rangeset_destroy(mem, where); return rc; }
  }
  // Only BARs currently mapped (enabled) of the domain's devices are checked for overlaps.
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain] as DomainPtr;
  let dev: PciDevPtr = NULL;
  for (let tmp = M[chk(d, DOMAIN, where) + DOMAIN.pdev_list] as PciDevPtr; tmp !== NULL; tmp = list_next(chk(tmp, PCI_DEV, where), PCI_DEV.domain_next, where) as PciDevPtr) {
    yield_point(SITE['modify_bars:for_each_pdev']);
    if (tmp === pdev) {
      dev = tmp;
      if (!rom_only) continue;
    } else if (!fn.modify_bars_get(pdev, tmp)) {
      continue;
    }
    const tv = vpciOf(tmp, where);             // L21: tmp->vpci read with no lock and no NULL check (R5)
    let rc = 0;
    for (let i = 0; i < NR_BARS && rc === 0; i++) {
      const b = bar(chk(tv, VPCI, where), i);
      const [s, e] = barFrames(b);
      if (!M[b + BAR.enabled] || !rangeset_overlaps_range(mem, s, e) || (rom_only && tmp === pdev && chk(tv, VPCI, where) && M[b + BAR.type] === VPCI_BAR_ROM)) continue;
      rc = rangeset_remove_range(mem, s, e);
    }
    if (tmp !== pdev) fn.modify_bars_put(pdev, tmp);
    if (rc) { rangeset_destroy(mem, where); return rc; }
  }
  ASSERT(dev !== NULL, where, 'dev');
  if (system_state() < SYS_STATE_active) {
    ASSERT(() => (cmd & PCI_COMMAND_MEMORY) !== 0 && !rom_only, where, '(cmd & PCI_COMMAND_MEMORY) && !rom_only');
    return apply_map(d, pdev, mem, cmd);
  }
  fn.defer_map(dev, mem, cmd, rom_only);
  return 0;
}

/** cmd_write (L21 335-354): only the MEMORY bit is emulated; the rest goes straight to hardware. */
export function cmd_write(pdev: PciDevPtr, reg: number, cmd: number): void {
  yield_point(SITE.cmd_write);
  const current_cmd = pci_conf_read16(sbdfOf(pdev, 'cmd_write'), reg);
  if ((cmd ^ current_cmd) & PCI_COMMAND_MEMORY) fn.modify_bars(pdev, cmd, false); // error ignored: guest may retry
  else pci_conf_write16(sbdfOf(pdev, 'cmd_write'), reg, cmd);
}

/** bar_write (L21 356-398): refused while MEMORY decoding is on (hardware COMMAND), else cache and forward. */
export function bar_write(pdev: PciDevPtr, reg: number, val: number, data: number): void {
  const where = 'bar_write';
  const vpci = vpciOf(pdev, where);
  let b = bar(vpci, data), hi = false;
  if (M[b + BAR.type] === VPCI_BAR_MEM64_HI) {
    ASSERT(reg > PCI_BASE_ADDRESS_0, where, 'reg > PCI_BASE_ADDRESS_0');
    b = bar(vpci, data - 1);
    hi = true;
  } else {
    val = (val & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
  }
  if (pci_conf_read16(M[pdev + PCI_DEV.sbdf], PCI_COMMAND) & PCI_COMMAND_MEMORY) return; // gprintk: ignored BAR write
  if (hi) M[b + BAR.addr_hi] = val; else M[b + BAR.addr_lo] = val;
  if (!hi) {
    val |= M[b + BAR.type] === VPCI_BAR_MEM32 ? PCI_BASE_ADDRESS_MEM_TYPE_32 : PCI_BASE_ADDRESS_MEM_TYPE_64;
    val |= M[b + BAR.prefetchable] ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
  }
  pci_conf_write32(M[pdev + PCI_DEV.sbdf], reg, val >>> 0);
}

/** rom_write (L21 400-446). */
export function rom_write(pdev: PciDevPtr, reg: number, val: number, data: number): void {
  const where = 'rom_write';
  const vpci = vpciOf(pdev, where);
  const rom = bar(vpci, data);
  const sbdf = M[pdev + PCI_DEV.sbdf];
  const cmd = pci_conf_read16(sbdf, PCI_COMMAND);
  const new_enabled = (val & PCI_ROM_ADDRESS_ENABLE) !== 0;
  const rom_enabled = M[vpci + VPCI.rom_enabled] !== 0;
  if ((cmd & PCI_COMMAND_MEMORY) && rom_enabled && new_enabled) return; // ignored ROM BAR write with decoding on
  if (!rom_enabled) setAddr(rom, (val & PCI_ROM_ADDRESS_MASK) >>> 0);
  if (!(cmd & PCI_COMMAND_MEMORY) || rom_enabled === new_enabled) {
    M[vpci + VPCI.rom_enabled] = new_enabled ? 1 : 0;
    pci_conf_write32(sbdf, reg, val >>> 0);
  } else if (fn.modify_bars(pdev, new_enabled ? PCI_COMMAND_MEMORY : 0, true)) {
    return; // nothing changed yet: leave rom->addr alone so a retried unmap finds the ROM
  }
  chk(vpci, VPCI, where, 'write');
  if (!new_enabled) setAddr(rom, (val & PCI_ROM_ADDRESS_MASK) >>> 0);
}

/** init_bars (L21 448-565): size the BARs with decoding off, register handlers, map if decoding was on. */
export function init_bars(pdev: PciDevPtr): number {
  const where = 'init_bars';
  const sbdf = sbdfOf(pdev, where);
  const vpci = vpciOf(pdev, where) as VpciPtr;
  if ((pci_conf_read8(sbdf, PCI_HEADER_TYPE) & 0x7f) !== 0) return EOPNOTSUPP; // bridges not modelled
  const num_bars = PCI_HEADER_NORMAL_NR_BARS, rom_reg = PCI_ROM_ADDRESS;
  let rc = fn.vpci_add_register(vpci, HANDLER.vpci_hw_read16, HANDLER.cmd_write, PCI_COMMAND, 2, 0);
  if (rc) return rc;
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.ignore_bars]) return 0;
  const cmd = pci_conf_read16(sbdf, PCI_COMMAND);
  if (cmd & PCI_COMMAND_MEMORY) pci_conf_write16(sbdf, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
  yield_point(SITE.init_bars);
  for (let i = 0; i < num_bars; i++) {
    const reg = PCI_BASE_ADDRESS_0 + i * 4;
    chk(vpci, VPCI, where, 'write');         // vpci_add_register's lock lets other CPUs run
    const b = bar(vpci, i);
    if (i && M[bar(vpci, i - 1) + BAR.type] === VPCI_BAR_MEM64_LO) {
      M[b + BAR.type] = VPCI_BAR_MEM64_HI;
      rc = fn.vpci_add_register(vpci, HANDLER.vpci_hw_read32, HANDLER.bar_write, reg, 4, i);
      if (rc) { pci_conf_write16(sbdf, PCI_COMMAND, cmd); return rc; }
      continue;
    }
    const val = pci_conf_read32(sbdf, reg) >>> 0;
    if ((val & PCI_BASE_ADDRESS_SPACE) === PCI_BASE_ADDRESS_SPACE_IO) { M[b + BAR.type] = VPCI_BAR_IO; continue; }
    M[b + BAR.type] = (val & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64 ? VPCI_BAR_MEM64_LO : VPCI_BAR_MEM32;
    const sized = pci_size_mem_bar(sbdf, reg, i === num_bars - 1 ? PCI_BAR_LAST : 0);
    if (sized.size === 0) { M[b + BAR.type] = VPCI_BAR_EMPTY; continue; }
    setAddr(b, sized.addr);
    M[b + BAR.size_lo] = sized.size % 2 ** 32; M[b + BAR.size_hi] = Math.floor(sized.size / 2 ** 32);
    M[b + BAR.prefetchable] = val & PCI_BASE_ADDRESS_MEM_PREFETCH ? 1 : 0;
    rc = fn.vpci_add_register(vpci, HANDLER.vpci_hw_read32, HANDLER.bar_write, reg, 4, i);
    if (rc) { pci_conf_write16(sbdf, PCI_COMMAND, cmd); return rc; }
  }
  const romSized = pci_size_mem_bar(sbdf, rom_reg, PCI_BAR_ROM);
  if (romSized.slots > 0 && romSized.size) {
    const rom = bar(chk(vpci, VPCI, where, 'write'), num_bars);
    M[rom + BAR.type] = VPCI_BAR_ROM;
    M[rom + BAR.size_lo] = romSized.size % 2 ** 32; M[rom + BAR.size_hi] = Math.floor(romSized.size / 2 ** 32);
    setAddr(rom, romSized.addr);
    M[vpci + VPCI.rom_enabled] = pci_conf_read32(sbdf, rom_reg) & PCI_ROM_ADDRESS_ENABLE;
    if (fn.vpci_add_register(vpci, HANDLER.vpci_hw_read32, HANDLER.rom_write, rom_reg, 4, num_bars)) {
      chk(vpci, VPCI, where, 'write');
      M[rom + BAR.type] = VPCI_BAR_EMPTY;
    }
  }
  return cmd & PCI_COMMAND_MEMORY ? fn.modify_bars(pdev, cmd, false) : 0;
}
