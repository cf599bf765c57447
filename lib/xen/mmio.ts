// The guest's way in: an ECAM (MMCFG) access trapped by Xen (xen/arch/x86/hvm/io.c vpci_mmcfg_{read,write} and
// vpci.c vpci_ecam_{read,write}, L21 486-548): size and alignment checks, 8-byte accesses split in two dwords.

import { M, cpu } from '../mem/machine.js';
import { record, EV, tstat, TSTAT } from '../trace/recorder.js';
import { SITE } from '../trace/sites.js';
import { fn } from './fn.js';
import { chk } from '../mem/heap.js';
import { DOMAIN, VCPU } from './types.js';
import { current } from './state.js';

/**
 * Without vPCI (every DomU unless the machine has vpciGuestSupport) Xen registers no MMCFG handler for the domain:
 * the access is not vPCI's. The lab has no device model behind it: reads are all-ones, writes go nowhere.
 */
function trapped(): boolean {
  const d = M[chk(current(), VCPU, 'vpci_mmcfg_access') + VCPU.domain];
  return M[chk(d, DOMAIN, 'vpci_mmcfg_access') + DOMAIN.has_vpci] !== 0;
}

/** VPCI_ECAM_BDF(addr) = (addr & 0x0ffff000) >> 12; ECAM_REG_OFFSET(addr) = addr & 0xfff. */
const ecam_bdf = (off: number): number => (off & 0x0ffff000) >>> 12;
const ecam_reg = (off: number): number => off & 0xfff;

export function vpci_access_allowed(reg: number, len: number): boolean {
  return (len === 1 || len === 2 || len === 4 || len === 8) && reg % len === 0;
}

/** A guest read of `len` bytes at ECAM offset `off` (segment 0). 8-byte reads return [low, high]. */
export function vpci_mmcfg_read(off: number, len: number): number | [number, number] {
  M[tstat(cpu, TSTAT.ACCESSES)]++;
  record(EV.ENTER, SITE.vpci_read, off);
  const sbdf = ecam_bdf(off), reg = ecam_reg(off);
  if (!trapped() || !vpci_access_allowed(reg, len) || reg + len > 4096) return len === 8 ? [0xffffffff, 0xffffffff] : 0xffffffff;
  if (len === 8) return [fn.vpci_read(sbdf, reg, 4), fn.vpci_read(sbdf, reg + 4, 4)];
  return fn.vpci_read(sbdf, reg, len);
}

/** A guest write; refused accesses are dropped. 8-byte writes take [low, high]. */
export function vpci_mmcfg_write(off: number, len: number, data: number | [number, number]): void {
  M[tstat(cpu, TSTAT.ACCESSES)]++;
  record(EV.ENTER, SITE.vpci_write, off);
  const sbdf = ecam_bdf(off), reg = ecam_reg(off);
  if (!trapped() || !vpci_access_allowed(reg, len) || reg + len > 4096) return;
  if (len === 8) {
    const [lo, hi] = Array.isArray(data) ? data : [data, 0];
    fn.vpci_write(sbdf, reg, 4, lo);
    fn.vpci_write(sbdf, reg + 4, 4, hi);
    return;
  }
  fn.vpci_write(sbdf, reg, len, Array.isArray(data) ? data[0] : data);
}
