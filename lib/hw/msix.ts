// The memory side of a function: what its memory BARs answer on the bus. The only registers behind them are the
// MSI-X table (4 dwords per entry: address low/high, data, vector control) and the pending-bit array, kept in the
// function's block of shared memory. The unit of atomicity is the dword, as for config space; writable bits are
// applied on every write (address bits 1:0 and the reserved vector-control bits read 0; the PBA is read-only).
// The device finds its own table through its read-only capability registers, as silicon decodes its own layout.

import { M } from '../mem/machine.js';
import { fp, fpOn } from '../mem/footprint.js';
import { fnBlock, hwFunctions } from './lookup.js';
import { FN_MSIX_TABLE, FN_MSIX_PBA, FN_WORDS } from './layout.js';
import { barAddr, barDecoding, barSize } from './frames.js';
import { MSIX_CAP_POS, msixPbaBytes } from './desc.js';
import {
  PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_TABLE, PCI_MSIX_PBA, PCI_MSIX_BIRMASK,
  PCI_MSIX_ENTRY_SIZE, PCI_MSIX_VECTOR_BITMASK, PCI_HEADER_NORMAL_NR_BARS,
} from './pci_regs.js';

/** Writable bits of the four dwords of a table entry. */
const ENTRY_WMASK = [0xfffffffc, 0xffffffff, 0xffffffff, PCI_MSIX_VECTOR_BITMASK] as const;

export interface MsixLayout {
  /** Config offset of the capability. */
  pos: number;
  entries: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

/** The function's MSI-X layout as its capability registers state it, or null when it has no MSI-X. */
export function msixLayout(sbdf: number): MsixLayout | null {
  const fb = fnBlock(sbdf);
  if (fb < 0) return null;
  if (fpOn) fp(fb, fb + FN_WORDS); // callers go on to the table and PBA words of the same block
  const cap = fb + (MSIX_CAP_POS >> 2);
  const id = Atomics.load(M, cap);
  if ((id & 0xff) !== PCI_CAP_ID_MSIX) return null;
  const table = M[cap + (PCI_MSIX_TABLE >> 2)], pba = M[cap + (PCI_MSIX_PBA >> 2)];
  return {
    pos: MSIX_CAP_POS,
    entries: ((id >>> (8 * PCI_MSIX_FLAGS)) & PCI_MSIX_FLAGS_QSIZE) + 1,
    tableBar: table & PCI_MSIX_BIRMASK, tableOffset: (table & ~PCI_MSIX_BIRMASK) >>> 0,
    pbaBar: pba & PCI_MSIX_BIRMASK, pbaOffset: (pba & ~PCI_MSIX_BIRMASK) >>> 0,
  };
}

/** Word of the table storage for entry nr's dword at byte offset off (0, 4, 8, 12), or -1. */
function entryWord(sbdf: number, nr: number, off: number): number {
  const fb = fnBlock(sbdf);
  const l = msixLayout(sbdf);
  if (!l || !(nr >= 0 && nr < l.entries) || !(off >= 0 && off < PCI_MSIX_ENTRY_SIZE) || off & 3) return -1;
  return fb + FN_MSIX_TABLE + nr * 4 + (off >> 2);
}

/** Read one dword of table entry nr straight from the device (what msi.c reaches through its own mapping). */
export function msix_entry_read(sbdf: number, nr: number, off: number): number {
  const w = entryWord(sbdf, nr, off);
  return w < 0 ? 0xffffffff : Atomics.load(M, w) >>> 0;
}

/** Write one dword of table entry nr; only its writable bits land. */
export function msix_entry_write(sbdf: number, nr: number, off: number, val: number): void {
  const w = entryWord(sbdf, nr, off);
  if (w >= 0) Atomics.store(M, w, val & ENTRY_WMASK[off >> 2]);
}

/** A dword of memory BAR `bar` at byte offset off: the table, the PBA, or nothing (reads 0, writes dropped). */
function devmem(sbdf: number, bar: number, off: number): { word: number; wmask: number } | null {
  const l = msixLayout(sbdf);
  if (!l) return null;
  if (bar === l.tableBar && off >= l.tableOffset && off < l.tableOffset + l.entries * PCI_MSIX_ENTRY_SIZE) {
    const rel = off - l.tableOffset;
    return { word: fnBlock(sbdf) + FN_MSIX_TABLE + (rel >> 2), wmask: ENTRY_WMASK[(rel >> 2) & 3] };
  }
  if (bar === l.pbaBar && off >= l.pbaOffset && off < l.pbaOffset + msixPbaBytes(l.entries)) {
    return { word: fnBlock(sbdf) + FN_MSIX_PBA + ((off - l.pbaOffset) >> 2), wmask: 0 };
  }
  return null;
}

/** The (function, BAR, offset) a machine address decodes to right now, or null when no BAR claims it. */
function decode(paddr: number): { sbdf: number; bar: number; off: number } | null {
  for (const sbdf of hwFunctions()) {
    for (let bar = 0; bar < PCI_HEADER_NORMAL_NR_BARS; bar++) {
      if (!barDecoding(sbdf, bar)) continue;
      const a = barAddr(sbdf, bar), size = barSize(sbdf, bar);
      if (paddr >= a && paddr < a + size) return { sbdf, bar, off: paddr - a };
    }
  }
  return null;
}

/** A 4-byte read of machine memory space at a dword-aligned address; all-ones when nothing decodes it. */
export function mmio_read32(paddr: number): number {
  const t = Number.isSafeInteger(paddr) && paddr % 4 === 0 ? decode(paddr) : null;
  if (!t) return 0xffffffff;
  const r = devmem(t.sbdf, t.bar, t.off);
  return r ? Atomics.load(M, r.word) >>> 0 : 0;
}

/** A 4-byte write of machine memory space; dropped where nothing decodes it or nothing is writable. */
export function mmio_write32(paddr: number, val: number): void {
  const t = Number.isSafeInteger(paddr) && paddr % 4 === 0 ? decode(paddr) : null;
  const r = t && devmem(t.sbdf, t.bar, t.off);
  if (r && r.wmask) Atomics.store(M, r.word, val & r.wmask);
}
