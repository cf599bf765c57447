// Identity of MMIO frames: which 4 KiB machine frames each function's BARs decode right now, read from the live
// registers (COMMAND and the BARs themselves). A stale-mapping scan compares these with what a domain's p2m maps:
// Xen tracks BARs at page-frame granularity, [PFN_DOWN(addr), PFN_DOWN(addr + size - 1)] (F.4).
// The reads of one function are individually atomic but not a snapshot; scan when the CPUs are quiescent.

import { M } from '../mem/machine.js';
import { fp, fpOn } from '../mem/footprint.js';
import { fnBlock, hwFunctions } from './lookup.js';
import { FN_SLOTS, FN_WORDS, SLOT_WORDS, SLOT } from './layout.js';
import { BAR_EMPTY, BAR_IO, BAR_MEM32, BAR_MEM64_LO, BAR_ROM, HW_SLOTS, ROM_SLOT } from './desc.js';
import { PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_BASE_ADDRESS_0, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE } from './pci_regs.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Frame number of a byte address; exact for addresses below 2^53 (no 32-bit shift, addresses exceed 2^32). */
export const PFN_DOWN = (addr: number): number => Math.floor(addr / PAGE_SIZE);
export const PFN_UP = (addr: number): number => Math.ceil(addr / PAGE_SIZE);

const TWO32 = 2 ** 32;

export interface BarFrames {
  sbdf: number;
  /** 0..5 for BAR registers, 6 (ROM_SLOT) for the expansion ROM. */
  bar: number;
  /** First and last frame, inclusive. */
  start: number;
  end: number;
}

const slotWord = (fb: number, bar: number, f: number): number => M[fb + FN_SLOTS + bar * SLOT_WORDS + f];

/** The hardware kind of a BAR slot (BAR_EMPTY/IO/MEM32/MEM64_LO/MEM64_HI/ROM); BAR_EMPTY for an absent function. */
export function barKind(sbdf: number, bar: number): number {
  const fb = fnBlock(sbdf);
  if (fpOn && fb >= 0) fp(fb, fb + FN_WORDS); // barFrames and barDecoding go on to read the registers
  return fb < 0 || !(bar >= 0 && bar < HW_SLOTS) ? BAR_EMPTY : slotWord(fb, bar, SLOT.kind);
}

/** The true size of a BAR slot in bytes (0 for empty slots and 64-bit high halves): the oracle for sizing code. */
export function barSize(sbdf: number, bar: number): number {
  const fb = fnBlock(sbdf);
  if (fb < 0 || !(bar >= 0 && bar < HW_SLOTS)) return 0;
  return (slotWord(fb, bar, SLOT.sizeLo) >>> 0) + (slotWord(fb, bar, SLOT.sizeHi) >>> 0) * TWO32;
}

/** The address a BAR slot currently holds (type/enable bits stripped); 0 for empty slots. */
export function barAddr(sbdf: number, bar: number): number {
  const fb = fnBlock(sbdf);
  if (fb < 0 || !(bar >= 0 && bar < HW_SLOTS)) return 0;
  if (fpOn) fp(fb, fb + FN_WORDS); // the registers read below (model steps read decode state through here)
  const kind = slotWord(fb, bar, SLOT.kind);
  const reg = fb + ((bar === ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar) >>> 2);
  const lo = Atomics.load(M, reg) >>> 0;
  switch (kind) {
    case BAR_IO: return (lo & ~0x3) >>> 0;
    case BAR_MEM32: return (lo & ~0xf) >>> 0;
    case BAR_MEM64_LO: return (Atomics.load(M, reg + 1) >>> 0) * TWO32 + ((lo & ~0xf) >>> 0);
    case BAR_ROM: return (lo & ~0x7ff) >>> 0;
    default: return 0;
  }
}

/**
 * Frames a memory BAR (or the ROM) covers at its current address, whether or not it is decoding; null for IO,
 * empty and high-half slots. Exact for any address the registers can hold: BARs are size-aligned, so the last
 * frame is computed from the first instead of from addr + size - 1.
 */
export function barFrames(sbdf: number, bar: number): BarFrames | null {
  const kind = barKind(sbdf, bar);
  if (kind !== BAR_MEM32 && kind !== BAR_MEM64_LO && kind !== BAR_ROM) return null;
  const size = barSize(sbdf, bar);
  const fb = fnBlock(sbdf);
  const reg = fb + ((bar === ROM_SLOT ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar) >>> 2);
  const lo = Atomics.load(M, reg) >>> 0;
  const hi = kind === BAR_MEM64_LO ? Atomics.load(M, reg + 1) >>> 0 : 0;
  const start = hi * (TWO32 / PAGE_SIZE) + (lo >>> PAGE_SHIFT); // PFN_DOWN without forming a >2^53 address
  return { sbdf: sbdf >>> 0, bar, start, end: start + Math.max(1, size / PAGE_SIZE) - 1 };
}

/** Is the function decoding this BAR: memory BARs need COMMAND.MEMORY, the ROM also its enable bit (F.5). */
export function barDecoding(sbdf: number, bar: number): boolean {
  const fb = fnBlock(sbdf);
  if (fb < 0) return false;
  const kind = barKind(sbdf, bar);
  if (kind !== BAR_MEM32 && kind !== BAR_MEM64_LO && kind !== BAR_ROM) return false;
  if ((Atomics.load(M, fb + (PCI_COMMAND >>> 2)) & PCI_COMMAND_MEMORY) === 0) return false;
  return kind !== BAR_ROM || (Atomics.load(M, fb + (PCI_ROM_ADDRESS >>> 2)) & PCI_ROM_ADDRESS_ENABLE) !== 0;
}

/** Frames the function decodes right now, one entry per decoding memory BAR/ROM. */
export function decodedFrames(sbdf: number): BarFrames[] {
  const out: BarFrames[] = [];
  for (let bar = 0; bar < HW_SLOTS; bar++) {
    if (!barDecoding(sbdf, bar)) continue;
    const f = barFrames(sbdf, bar);
    if (f) out.push(f);
  }
  return out;
}

/** Frames every function of the machine decodes right now. */
export function allDecodedFrames(): BarFrames[] {
  return hwFunctions().flatMap(decodedFrames);
}

/** The function whose decoding BAR contains machine frame pfn (first match in description order), or -1. */
export function frameOwner(pfn: number): number {
  for (const sbdf of hwFunctions()) {
    for (let bar = 0; bar < HW_SLOTS; bar++) {
      if (!barDecoding(sbdf, bar)) continue;
      const f = barFrames(sbdf, bar)!;
      if (pfn >= f.start && pfn <= f.end) return sbdf;
    }
  }
  return -1;
}
