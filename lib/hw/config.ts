// Configuration-space accesses as the hardware performs them. The unit of atomicity is the dword, as on a real
// bus: a read is one Atomics.load; a byte or word write is merged into its dword by compare-exchange, so two CPUs
// writing different bytes of one dword at once both land, and neither can tear the other. The writable-bit mask
// is applied on every write, which is what makes BAR sizing, read-only type bits and read-only registers work.

import { M } from '../mem/machine.js';
import { fp, fpOn } from '../mem/footprint.js';
import { fnBlock } from './lookup.js';
import { FN_WMASK, FN_WORDS, WMASK_DWORDS } from './layout.js';
import { PCI_CFG_SPACE_EXP_SIZE } from './pci_regs.js';

/** Sizes 1, 2, 4, naturally aligned, inside the 4 KiB extended config space. */
export function pci_access_ok(reg: number, size: number): boolean {
  return (size === 1 || size === 2 || size === 4) && (reg >>> 0) === reg && reg <= PCI_CFG_SPACE_EXP_SIZE - size && (reg & (size - 1)) === 0;
}

/** What a refused or unclaimed read returns: all-ones of the access width (a master abort). */
export function allOnes(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : size === 3 ? 0xffffff : 0xffffffff;
}

/** Read `size` bytes at `reg`; unsigned. Absent functions and refused accesses read all-ones. */
export function pci_conf_read(sbdf: number, reg: number, size: number): number {
  const fb = fnBlock(sbdf);
  if (fb < 0 || !pci_access_ok(reg, size)) return allOnes(size);
  if (fpOn) fp(fb + (reg >>> 2), fb + (reg >>> 2) + 1);
  const v = Atomics.load(M, fb + (reg >>> 2));
  return size === 4 ? v >>> 0 : (v >>> ((reg & 3) << 3)) & (size === 1 ? 0xff : 0xffff);
}

/** Write the low `size` bytes of val at `reg`. Absent functions and refused accesses drop the write. */
export function pci_conf_write(sbdf: number, reg: number, size: number, val: number): void {
  const fb = fnBlock(sbdf);
  if (fb < 0 || !pci_access_ok(reg, size)) return;
  const dw = reg >>> 2;
  if (dw >= WMASK_DWORDS) return; // extended config space (past 256 bytes) has no writable register here
  const shift = (reg & 3) << 3;
  const lanes = size === 4 ? -1 : (size === 1 ? 0xff : 0xffff) << shift;
  if (fpOn) fp(fb, fb + FN_WORDS); // a BAR write also moves the function's decode state (frames.ts)
  const wm = M[fb + FN_WMASK + dw] & lanes; // masks are written once at power-on: a plain read is enough
  if (wm === 0) return;
  const bits = (val << shift) & wm;
  const w = fb + dw;
  for (let old = Atomics.load(M, w); ;) {
    const next = (old & ~wm) | bits;
    if (next === old) return;
    const seen = Atomics.compareExchange(M, w, old, next);
    if (seen === old) return;
    old = seen;
  }
}

export const pci_conf_read8 = (sbdf: number, reg: number): number => pci_conf_read(sbdf, reg, 1);
export const pci_conf_read16 = (sbdf: number, reg: number): number => pci_conf_read(sbdf, reg, 2);
export const pci_conf_read32 = (sbdf: number, reg: number): number => pci_conf_read(sbdf, reg, 4);
export const pci_conf_write8 = (sbdf: number, reg: number, val: number): void => pci_conf_write(sbdf, reg, 1, val);
export const pci_conf_write16 = (sbdf: number, reg: number, val: number): void => pci_conf_write(sbdf, reg, 2, val);
export const pci_conf_write32 = (sbdf: number, reg: number, val: number): void => pci_conf_write(sbdf, reg, 4, val);
