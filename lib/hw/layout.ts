// Where the hardware lives inside the machine's 'pci' region (word offsets from the region base):
//
//   [0] HW_MAGIC once initHw has run   [1] number of functions   [2 .. 2+n) sbdf of function i
//   then function i's block at HW_TABLE + n + i * FN_WORDS:
//     [0 .. 1024)          config space, 4096 bytes as little-endian dwords (byte k of a dword = bits 8k..8k+7)
//     [1024 .. 1088)       writable-bit mask of dwords 0x00..0xfc (header and capabilities); the rest is read-only
//     [1088 .. 1088 + 28)  per BAR slot (6 BARs + ROM): kind, size low 32, size high 32, spare
//     then the MSI-X device memory: MSIX_MAX_ENTRIES table entries of 4 dwords, then the pending-bit array
//
// The masks and slot facts are what the silicon is; config space is what software can see and change. Workers read
// all of it from shared memory, so they need nothing but the Machine.

import type { HwDesc } from './desc.js';
import { HW_SLOTS, MSIX_MAX_ENTRIES } from './desc.js';

export const HW_REGION = 'pci';
export const HW_MAGIC = 0x50434921; // 'PCI!'
export const HW_COUNT = 1;
export const HW_TABLE = 2;

export const CFG_WORDS = 1024;
export const HDR_DWORDS = 16;
/** Dwords with a writable-bit mask: the 256-byte PCI config space (header, then capabilities from 0x40). */
export const WMASK_DWORDS = 64;
export const FN_CFG = 0;
export const FN_WMASK = CFG_WORDS;
export const FN_SLOTS = FN_WMASK + WMASK_DWORDS;
export const SLOT_WORDS = 4;
export const SLOT = { kind: 0, sizeLo: 1, sizeHi: 2 } as const;
export const FN_MSIX_TABLE = FN_SLOTS + HW_SLOTS * SLOT_WORDS;
export const FN_MSIX_PBA = FN_MSIX_TABLE + MSIX_MAX_ENTRIES * 4;
export const FN_WORDS = FN_MSIX_PBA + MSIX_MAX_ENTRIES / 32;

/** Words of the 'pci' region a machine needs for this hardware: createMachine({ regions: { pci: hwWords(desc) } }). */
export function hwWords(desc: HwDesc): number {
  const n = desc.functions.length;
  return HW_TABLE + n + n * FN_WORDS;
}

/** The regions entry for createMachine, for callers that prefer spreading it. */
export function hwRegions(desc: HwDesc): Record<string, number> {
  return { [HW_REGION]: hwWords(desc) };
}
