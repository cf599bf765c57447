// Raw ECAM (memory-mapped config) accesses to segment 0, as a CPU without vPCI in between would perform them.
// Xen's rules (A.15, F.6): size 1/2/4/8, naturally aligned, not crossing the function's 4 KiB; a refused read
// yields all-ones, a refused write is dropped. An 8-byte access is two dword accesses, low at reg then high at
// reg+4, so it is not atomic as a whole (another CPU can land between the halves, as on Xen). 8-byte values are
// bigints so all 64 bits are exact.

import { pci_conf_read, pci_conf_write, allOnes } from './config.js';
import { VPCI_ECAM_BDF, ECAM_REG_OFFSET, ECAM_WINDOW_SIZE } from './sbdf.js';

const ALL_ONES_64 = 0xffffffffffffffffn;

/** vpci_access_allowed + the 4 KiB bound of vpci_ecam_read/write. */
export function ecam_access_allowed(reg: number, size: number): boolean {
  return (size === 1 || size === 2 || size === 4 || size === 8) && (reg >>> 0) === reg && reg + size <= 4096 && reg % size === 0;
}

const inWindow = (off: number): boolean => Number.isInteger(off) && off >= 0 && off < ECAM_WINDOW_SIZE;

export function ecam_read(offset: number, size: 8): bigint;
export function ecam_read(offset: number, size: 1 | 2 | 4): number;
export function ecam_read(offset: number, size: number): number | bigint;
export function ecam_read(offset: number, size: number): number | bigint {
  const reg = ECAM_REG_OFFSET(offset);
  if (!inWindow(offset) || !ecam_access_allowed(reg, size)) return size === 8 ? ALL_ONES_64 : allOnes(size);
  const sbdf = VPCI_ECAM_BDF(offset);
  if (size !== 8) return pci_conf_read(sbdf, reg, size);
  const lo = pci_conf_read(sbdf, reg, 4);
  const hi = pci_conf_read(sbdf, reg + 4, 4);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Returns false when the access is refused (vpci_ecam_write's result); true does not mean a function answered. */
export function ecam_write(offset: number, size: number, val: number | bigint): boolean {
  const reg = ECAM_REG_OFFSET(offset);
  if (!inWindow(offset) || !ecam_access_allowed(reg, size)) return false;
  const sbdf = VPCI_ECAM_BDF(offset);
  if (size !== 8) { pci_conf_write(sbdf, reg, size, typeof val === 'bigint' ? Number(BigInt.asUintN(32, val)) : val); return true; }
  const v = BigInt.asUintN(64, typeof val === 'bigint' ? val : Number.isFinite(val) ? BigInt(Math.trunc(val)) : 0n);
  pci_conf_write(sbdf, reg, 4, Number(v & 0xffffffffn));
  pci_conf_write(sbdf, reg + 4, 4, Number(v >> 32n));
  return true;
}
