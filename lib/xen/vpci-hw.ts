// xen/drivers/vpci/vpci.c's hardware access for the gaps between emulated registers and its byte merge: the same
// code in both generations (vpci.c L21 367-473; HEAD the same since 80b0eb095a).

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write8, pci_conf_write16, pci_conf_write32 } from '../hw/index.js';
import { DOMAIN, VCPU } from './types.js';
import { current } from './state.js';

export const sizeMask = (size: number): number => (size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1);

// 2 ** (8 * offset) by table: the operator on a variable exponent is a call to pow on every merge.
const BYTE_SCALE = [1, 2 ** 8, 2 ** 16, 2 ** 24];

/** Replace bytes [offset, offset+size) of data with the low size bytes of v. */
export function merge_result(data: number, v: number, size: number, offset: number): number {
  const mask = sizeMask(size) * (offset < 4 ? BYTE_SCALE[offset] : 2 ** (offset * 8));
  return (((data >>> 0) & ~mask) | (((v >>> 0) & sizeMask(size)) << (offset * 8))) >>> 0;
}

/** Only the hardware domain reaches real config space; a DomU reads all-ones and its writes are dropped (80b0eb095a). */
function hw_allowed(): boolean {
  const v = current();
  return v === NULL || M[chk(M[chk(v, VCPU, 'vpci_read_hw') + VCPU.domain], DOMAIN, 'vpci_read_hw') + DOMAIN.is_hardware_domain] !== 0;
}

/** Hardware access for the gaps between emulated registers, including 3-byte pieces split 1+2 or 2+1. */
export function vpci_read_hw(sbdf: number, reg: number, size: number): number {
  if (!hw_allowed()) return size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  switch (size) {
    case 4: return pci_conf_read32(sbdf, reg) >>> 0;
    case 3:
      return reg & 1
        ? (pci_conf_read8(sbdf, reg) | (pci_conf_read16(sbdf, reg + 1) << 8)) >>> 0
        : (pci_conf_read16(sbdf, reg) | (pci_conf_read8(sbdf, reg + 2) << 16)) >>> 0;
    case 2: return pci_conf_read16(sbdf, reg);
    case 1: return pci_conf_read8(sbdf, reg);
    default: return 0xffffffff;
  }
}

export function vpci_write_hw(sbdf: number, reg: number, size: number, data: number): void {
  if (!hw_allowed()) return;
  switch (size) {
    case 4: pci_conf_write32(sbdf, reg, data >>> 0); break;
    case 3:
      if (reg & 1) { pci_conf_write8(sbdf, reg, data & 0xff); pci_conf_write16(sbdf, reg + 1, (data >>> 8) & 0xffff); }
      else { pci_conf_write16(sbdf, reg, data & 0xffff); pci_conf_write8(sbdf, reg + 2, (data >>> 16) & 0xff); }
      break;
    case 2: pci_conf_write16(sbdf, reg, data & 0xffff); break;
    case 1: pci_conf_write8(sbdf, reg, data & 0xff); break;
  }
}
