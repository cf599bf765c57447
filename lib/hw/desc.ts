// The machine description: which PCI functions exist and how their BARs are built. Plain JSON (numbers, strings,
// booleans, null) so a scenario can state it as data and a worker could receive it; 64-bit quantities are numbers,
// exact up to 2^53, which is why sizes and addresses are limited to that range.

import { PCI_HEADER_NORMAL_NR_BARS } from './pci_regs.js';

export type BarKind = 'io' | 'mem32' | 'mem64';

export interface BarDesc {
  kind: BarKind;
  /** Bytes, a power of two: io 4 B..64 KiB, mem32 16 B..2 GiB, mem64 16 B..2^52. */
  size: number;
  /** Boot address, aligned to size (the hardware cannot hold the bits below it). */
  addr: number;
  /** Memory BARs only. */
  prefetchable?: boolean;
}

export interface RomDesc {
  /** Bytes, a power of two, 2 KiB..2 GiB. */
  size: number;
  addr: number;
  /** PCI_ROM_ADDRESS_ENABLE at boot. */
  enabled?: boolean;
}

export interface PciFunctionDesc {
  /** seg << 16 | bus << 8 | dev << 3 | fn (PCI_SBDF). ECAM reaches segment 0 only. */
  sbdf: number;
  vendor: number;
  device: number;
  /**
   * BAR registers filled in order from BAR0; a 'mem64' takes two slots (its high dword is the next register), null
   * leaves a slot unimplemented (reads 0, sizes to 0). At most 6 slots; a 'mem64' cannot start in slot 5.
   */
  bars: (BarDesc | null)[];
  rom?: RomDesc;
  /** PCI_COMMAND_MEMORY at boot (the device decodes its memory BARs, as firmware left it). */
  memoryDecoding?: boolean;
  /** 24-bit class code (class << 16 | subclass << 8 | prog-if) and revision; both default to 0. */
  classCode?: number;
  revision?: number;
  /** An MSI-X capability (at config offset MSIX_CAP_POS), its table and PBA inside memory BARs of this function. */
  msix?: MsixDesc;
  /** An MSI capability (at MSI_CAP_POS, after MSI-X when both): one vector, 32-bit address, no per-vector mask. */
  msi?: boolean;
}

export interface MsixDesc {
  /** Table entries, 1..MSIX_MAX_ENTRIES. */
  entries: number;
  /** BAR slot (0..5) of a memory BAR holding the table, and the table's byte offset in it (8-byte aligned). */
  tableBar: number;
  tableOffset: number;
  /** The same for the pending-bit array, ROUNDUP(DIV_ROUND_UP(entries, 8), 8) bytes. */
  pbaBar: number;
  pbaOffset: number;
}

/** Where the MSI-X capability sits in config space (the first capability, right after the type-0 header). */
export const MSIX_CAP_POS = 0x40;
/** Where the MSI capability sits. */
export const MSI_CAP_POS = 0x50;
/** Table entries the emulated device memory has room for (the spec allows 2048). */
export const MSIX_MAX_ENTRIES = 64;
/** Bytes of the pending-bit array for n entries (vpci.h's vmsix_table_size for VPCI_MSIX_PBA). */
export const msixPbaBytes = (n: number): number => Math.ceil(Math.ceil(n / 8) / 8) * 8;

export interface HwDesc { functions: PciFunctionDesc[] }

/** One BAR register slot as the hardware implements it. Kind codes follow Xen's enum vpci_bar_type. */
export const BAR_EMPTY = 0, BAR_IO = 1, BAR_MEM32 = 2, BAR_MEM64_LO = 3, BAR_MEM64_HI = 4, BAR_ROM = 5;
export const BAR_KIND_NAMES = ['empty', 'io', 'mem32', 'mem64-lo', 'mem64-hi', 'rom'] as const;
/** Slot index of the expansion ROM in per-function BAR tables (Xen's header.bars[PCI_HEADER_NORMAL_NR_BARS]). */
export const ROM_SLOT = PCI_HEADER_NORMAL_NR_BARS;
export const HW_SLOTS = PCI_HEADER_NORMAL_NR_BARS + 1;

export interface SlotPlan { kind: number; size: number; addr: number; prefetchable: boolean; enabled: boolean }

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
const LIMITS: Record<BarKind, [min: number, max: number, top: number]> = {
  io: [4, 2 ** 16, 2 ** 32],
  mem32: [16, 2 ** 31, 2 ** 32],
  mem64: [16, 2 ** 52, 2 ** 53],
};

function checkRange(what: string, size: number, addr: number, min: number, max: number, top: number): void {
  if (!isPow2(size) || size < min || size > max) throw new RangeError(`${what}: size ${size} is not a power of two in [${min}, ${max}]`);
  if (!Number.isSafeInteger(addr) || addr < 0 || addr % size !== 0 || addr + size > top) {
    throw new RangeError(`${what}: addr 0x${addr.toString(16)} not aligned to its size or out of range`);
  }
}

/** Validate one function and lay its BARs into the 6 register slots plus the ROM slot. Throws on a bad description. */
export function planSlots(f: PciFunctionDesc): SlotPlan[] {
  const name = `function 0x${(f.sbdf >>> 0).toString(16)}`;
  const slots: SlotPlan[] = [];
  const empty = (): SlotPlan => ({ kind: BAR_EMPTY, size: 0, addr: 0, prefetchable: false, enabled: false });
  for (const b of f.bars) {
    const i = slots.length;
    if (i >= PCI_HEADER_NORMAL_NR_BARS) throw new RangeError(`${name}: more than ${PCI_HEADER_NORMAL_NR_BARS} BAR slots`);
    if (b === null) { slots.push(empty()); continue; }
    const lim = LIMITS[b.kind];
    if (!lim) throw new RangeError(`${name}: BAR${i} has unknown kind '${String(b.kind)}'`);
    checkRange(`${name} BAR${i}`, b.size, b.addr, ...lim);
    if (b.kind === 'io' && b.prefetchable) throw new RangeError(`${name}: BAR${i} is io and cannot be prefetchable`);
    const pf = !!b.prefetchable;
    if (b.kind !== 'mem64') { slots.push({ kind: b.kind === 'io' ? BAR_IO : BAR_MEM32, size: b.size, addr: b.addr, prefetchable: pf, enabled: false }); continue; }
    if (i === PCI_HEADER_NORMAL_NR_BARS - 1) throw new RangeError(`${name}: 64-bit BAR in the last slot has no high dword`);
    slots.push({ kind: BAR_MEM64_LO, size: b.size, addr: b.addr, prefetchable: pf, enabled: false });
    slots.push({ kind: BAR_MEM64_HI, size: 0, addr: 0, prefetchable: pf, enabled: false });
  }
  while (slots.length < PCI_HEADER_NORMAL_NR_BARS) slots.push(empty());
  if (f.rom) {
    checkRange(`${name} ROM`, f.rom.size, f.rom.addr, 2048, 2 ** 31, 2 ** 32);
    slots.push({ kind: BAR_ROM, size: f.rom.size, addr: f.rom.addr, prefetchable: false, enabled: !!f.rom.enabled });
  } else {
    slots.push(empty());
  }
  return slots;
}

function checkMsix(name: string, m: MsixDesc, slots: SlotPlan[]): void {
  if (!Number.isInteger(m.entries) || m.entries < 1 || m.entries > MSIX_MAX_ENTRIES) throw new RangeError(`${name}: MSI-X entries must be 1..${MSIX_MAX_ENTRIES}`);
  const parts: Array<[string, number, number, number]> = [
    ['table', m.tableBar, m.tableOffset, m.entries * 16], ['PBA', m.pbaBar, m.pbaOffset, msixPbaBytes(m.entries)],
  ];
  for (const [what, bar, off, bytes] of parts) {
    const s = slots[bar];
    if (!Number.isInteger(bar) || !s || (s.kind !== BAR_MEM32 && s.kind !== BAR_MEM64_LO)) throw new RangeError(`${name}: MSI-X ${what} must be in a memory BAR (BAR${bar} is not one)`);
    if (!Number.isInteger(off) || off < 0 || off % 8 !== 0 || off + bytes > s.size) throw new RangeError(`${name}: MSI-X ${what} offset 0x${off.toString(16)} is not 8-byte aligned inside BAR${bar}`);
  }
  const [t, p] = parts;
  if (t[1] === p[1] && t[2] < p[2] + p[3] && p[2] < t[2] + t[3]) throw new RangeError(`${name}: MSI-X table and PBA overlap`);
}

export function validateHwDesc(desc: HwDesc): void {
  const seen = new Set<number>();
  for (const f of desc.functions) {
    const s = f.sbdf;
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new RangeError(`bad sbdf ${s}`);
    if (seen.has(s)) throw new RangeError(`function 0x${s.toString(16)} described twice`);
    seen.add(s);
    const u16 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffff;
    if (!u16(f.vendor) || f.vendor === 0xffff) throw new RangeError(`function 0x${s.toString(16)}: bad vendor id`);
    if (!u16(f.device)) throw new RangeError(`function 0x${s.toString(16)}: bad device id`);
    const slots = planSlots(f);
    if (f.msix) checkMsix(`function 0x${s.toString(16)}`, f.msix, slots);
  }
}
