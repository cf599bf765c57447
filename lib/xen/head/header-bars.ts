// xen/drivers/vpci/header.c at HEAD (c447b7308b), second half (split off header.ts for length): the BAR write
// handlers of Dom0 and of a DomU, and vpci_init_header with its per-BAR rangesets. Line numbers are header.c's.

import { M } from '../../mem/machine.js';
import { chk } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { rw_is_write_locked } from '../../sync/rwlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write16, pci_conf_write32 } from '../../hw/index.js';
import {
  PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_COMMAND_IO, PCI_COMMAND_PARITY, PCI_COMMAND_WAIT, PCI_COMMAND_SERR, PCI_COMMAND_FAST_BACK,
  PCI_COMMAND_RSVDP_MASK, PCI_COMMAND_VGA_PALETTE, PCI_COMMAND_INVALIDATE, PCI_COMMAND_SPECIAL, PCI_COMMAND_MASTER,
  PCI_HEADER_TYPE, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_SPACE, PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_MEM_TYPE_32, PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_MASK,
  PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE,
} from '../../hw/pci_regs.js';
import {
  DOMAIN, PCI_DEV, VPCI, BAR, BAR_WORDS, PCI_HEADER_NORMAL_NR_BARS, ENOMEM, EOPNOTSUPP,
  VPCI_BAR_EMPTY, VPCI_BAR_IO, VPCI_BAR_MEM32, VPCI_BAR_MEM64_LO, VPCI_BAR_MEM64_HI, VPCI_BAR_ROM,
} from '../types.js';
import { HANDLER } from '../handlers.js';
import { rangeset_new } from '../rangeset.js';
import { pci_size_mem_bar, PCI_BAR_LAST, PCI_BAR_ROM } from '../pci.js';
import { bar } from '../bars.js';
import { fn } from '../fn.js';
import { addrOf, guestAddrOf, set64 } from './header.js';
import type { PciDevPtr, VpciPtr } from '../types.js';

const vpciOf = (pdev: number, where: string): number => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
const isHwdom = (pdev: number, where: string): boolean => M[chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], DOMAIN, where) + DOMAIN.is_hardware_domain] !== 0;
const sizeOf = (b: number): number => (M[b + BAR.size_hi] >>> 0) * 2 ** 32 + (M[b + BAR.size_lo] >>> 0);

/** bar_write (header.c:562-612): Dom0 only; refused while the BAR is mapped (bar->enabled, 7abd7bc162). */
export function bar_write(pdev: PciDevPtr, reg: number, val: number, data: number): void {
  const where = 'bar_write';
  ASSERT(() => isHwdom(pdev, where), where, 'is_hardware_domain(pdev->domain)');
  const vpci = vpciOf(pdev, where);
  let b = bar(vpci, data), hi = false;
  if (M[b + BAR.type] === VPCI_BAR_MEM64_HI) {
    ASSERT(reg > PCI_BASE_ADDRESS_0, where, 'reg > PCI_BASE_ADDRESS_0');
    b -= BAR_WORDS;
    hi = true;
  } else {
    val = (val & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
  }
  yield_point(SITE.bar_write);
  chk(pdev, PCI_DEV, where);
  chk(vpci, VPCI, where, 'write');
  if (M[b + BAR.enabled]) return;                         // "ignored BAR write while mapped"
  if (hi) M[b + BAR.addr_hi] = val; else M[b + BAR.addr_lo] = val;
  set64(b, BAR.guest_addr_lo, addrOf(b));                 // header.c:601: identity for hwdom
  if (!hi) {
    val |= M[b + BAR.type] === VPCI_BAR_MEM32 ? PCI_BASE_ADDRESS_MEM_TYPE_32 : PCI_BASE_ADDRESS_MEM_TYPE_64;
    val |= M[b + BAR.prefetchable] ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
  }
  pci_conf_write32(M[pdev + PCI_DEV.sbdf], reg, val >>> 0);
}

/** guest_mem_bar_write (header.c:614-654): a DomU moves only its guest address, never the hardware BAR. */
export function guest_mem_bar_write(pdev: PciDevPtr, reg: number, val: number, data: number): void {
  const where = 'guest_mem_bar_write';
  const vpci = vpciOf(pdev, where);
  let b = bar(vpci, data), hi = false;
  if (M[b + BAR.type] === VPCI_BAR_MEM64_HI) {
    ASSERT(reg > PCI_BASE_ADDRESS_0, where, 'reg > PCI_BASE_ADDRESS_0');
    b -= BAR_WORDS;
    hi = true;
  } else {
    val = (val & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
  }
  const cur = guestAddrOf(b);
  let ga = hi ? (val >>> 0) * 2 ** 32 + (cur % 2 ** 32) : Math.floor(cur / 2 ** 32) * 2 ** 32 + (val >>> 0);
  ga -= ga % sizeOf(b);                                   // guest_addr &= ~(bar->size - 1): sizing reads back the mask
  yield_point(SITE.bar_write);
  chk(vpci, VPCI, where, 'write');
  if (M[b + BAR.enabled]) return;                         // "ignored guest BAR write while mapped"
  set64(b, BAR.guest_addr_lo, ga);
}

/** guest_mem_bar_read (header.c:656-675). */
export function guest_mem_bar_read(pdev: PciDevPtr, reg: number, data: number): number {
  const where = 'guest_mem_bar_read';
  const vpci = vpciOf(pdev, where);
  let b = bar(vpci, data);
  if (M[b + BAR.type] === VPCI_BAR_MEM64_HI) {
    ASSERT(reg > PCI_BASE_ADDRESS_0, where, 'reg > PCI_BASE_ADDRESS_0');
    b -= BAR_WORDS;
    return Math.floor(guestAddrOf(b) / 2 ** 32) >>> 0;
  }
  let v = guestAddrOf(b) % 2 ** 32;
  v |= M[b + BAR.type] === VPCI_BAR_MEM32 ? PCI_BASE_ADDRESS_MEM_TYPE_32 : PCI_BASE_ADDRESS_MEM_TYPE_64;
  v |= M[b + BAR.prefetchable] ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
  return v >>> 0;
}

/** bar_add_rangeset (header.c:735-745). */
function bar_add_rangeset(b: number): number {
  M[b + BAR.mem] = rangeset_new();
  return M[b + BAR.mem] === 0 ? ENOMEM : 0;
}

const DOMU_CMD_RSVDP = PCI_COMMAND_RSVDP_MASK | PCI_COMMAND_IO | PCI_COMMAND_PARITY | PCI_COMMAND_WAIT | PCI_COMMAND_SERR | PCI_COMMAND_FAST_BACK;
const DOMU_CMD_CLEAR = PCI_COMMAND_VGA_PALETTE | PCI_COMMAND_INVALIDATE | PCI_COMMAND_SPECIAL | PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY | PCI_COMMAND_IO;

/** vpci_init_header (header.c:747-934): caller holds pdev->domain->pci_lock for writing. */
export function vpci_init_header(pdev: PciDevPtr): number {
  const where = 'vpci_init_header';
  const vpci = vpciOf(pdev, where) as VpciPtr;
  const sbdf = M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
  const is_hwdom = isHwdom(pdev, where);
  ASSERT(() => rw_is_write_locked(chk(M[pdev + PCI_DEV.domain], DOMAIN, where) + DOMAIN.pci_lock), where, 'rw_is_write_locked(&pdev->domain->pci_lock)');
  if ((pci_conf_read8(sbdf, PCI_HEADER_TYPE) & 0x7f) !== 0) return EOPNOTSUPP;   // bridges not modelled
  const num_bars = PCI_HEADER_NORMAL_NR_BARS, rom_reg = PCI_ROM_ADDRESS;
  let rc = fn.vpci_add_register_mask(vpci, is_hwdom ? HANDLER.vpci_hw_read16 : HANDLER.guest_cmd_read, HANDLER.cmd_write, PCI_COMMAND, 2, 0,
    0, 0, is_hwdom ? 0 : DOMU_CMD_RSVDP, 0);
  if (rc) return rc;
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.ignore_bars]) return 0;
  let cmd = pci_conf_read16(sbdf, PCI_COMMAND);
  if (!is_hwdom) cmd &= ~DOMU_CMD_CLEAR;                                            // header.c:806-809
  M[chk(vpci, VPCI, where, 'write') + VPCI.guest_cmd] = cmd;
  if (!is_hwdom || (cmd & PCI_COMMAND_MEMORY)) pci_conf_write16(sbdf, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
  yield_point(SITE.vpci_init_header);
  const fail = (r: number): number => { pci_conf_write16(sbdf, PCI_COMMAND, cmd); return r; };   // header.c:931-933
  const rd = is_hwdom ? HANDLER.vpci_hw_read32 : HANDLER.guest_mem_bar_read, wr = is_hwdom ? HANDLER.bar_write : HANDLER.guest_mem_bar_write;
  for (let i = 0; i < num_bars; i++) {
    const reg = PCI_BASE_ADDRESS_0 + i * 4;
    const b = bar(chk(vpci, VPCI, where, 'write'), i);   // vpci_add_register's lock lets other CPUs run
    if (i && M[bar(vpci, i - 1) + BAR.type] === VPCI_BAR_MEM64_LO) {
      M[b + BAR.type] = VPCI_BAR_MEM64_HI;
      if ((rc = fn.vpci_add_register(vpci, rd, wr, reg, 4, i))) return fail(rc);
      continue;
    }
    const val = pci_conf_read32(sbdf, reg) >>> 0;
    if ((val & PCI_BASE_ADDRESS_SPACE) === PCI_BASE_ADDRESS_SPACE_IO) { M[b + BAR.type] = VPCI_BAR_IO; continue; }  // x86
    M[b + BAR.type] = (val & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64 ? VPCI_BAR_MEM64_LO : VPCI_BAR_MEM32;
    if ((rc = bar_add_rangeset(b))) return fail(rc);
    chk(vpci, VPCI, where, 'write');                     // rangeset_new's lock init: no one else runs, but be plain
    const sized = pci_size_mem_bar(sbdf, reg, i === num_bars - 1 ? PCI_BAR_LAST : 0);
    if (sized.size === 0) {
      M[b + BAR.type] = VPCI_BAR_EMPTY;
      if (!is_hwdom && (rc = fn.vpci_add_register(vpci, HANDLER.vpci_read_val, 0, reg, 4, 0))) return fail(rc);
      continue;
    }
    set64(b, BAR.addr_lo, sized.addr);
    set64(b, BAR.guest_addr_lo, sized.addr);
    set64(b, BAR.size_lo, sized.size);
    M[b + BAR.prefetchable] = val & PCI_BASE_ADDRESS_MEM_PREFETCH ? 1 : 0;
    if ((rc = fn.vpci_add_register(vpci, rd, wr, reg, 4, i))) return fail(rc);
  }
  const rom = bar(chk(vpci, VPCI, where, 'write'), num_bars);
  const romSized = is_hwdom ? pci_size_mem_bar(sbdf, rom_reg, PCI_BAR_ROM) : { slots: 0, size: 0, addr: 0 };
  if (romSized.slots > 0 && romSized.size) {
    M[rom + BAR.type] = VPCI_BAR_ROM;
    set64(rom, BAR.size_lo, romSized.size);
    set64(rom, BAR.addr_lo, romSized.addr);
    set64(rom, BAR.guest_addr_lo, romSized.addr);
    M[vpci + VPCI.rom_enabled] = pci_conf_read32(sbdf, rom_reg) & PCI_ROM_ADDRESS_ENABLE;
    const failed = fn.vpci_add_register(vpci, HANDLER.vpci_hw_read32, HANDLER.rom_write, rom_reg, 4, num_bars);
    chk(vpci, VPCI, where, 'write');
    if (failed) M[rom + BAR.type] = VPCI_BAR_EMPTY;
    else if ((rc = bar_add_rangeset(rom))) return fail(rc);
  } else if (!is_hwdom) {
    M[rom + BAR.type] = VPCI_BAR_EMPTY;                       // header.c:919-927: no ROM for guests yet
    if ((rc = fn.vpci_add_register(vpci, HANDLER.vpci_read_val, 0, rom_reg, 4, 0))) return fail(rc);
  }
  return cmd & PCI_COMMAND_MEMORY ? fn.modify_bars(pdev, cmd, false) : 0;
}
