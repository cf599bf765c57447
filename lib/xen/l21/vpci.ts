// xen/drivers/vpci/vpci.c as of late 2021 (L21 = 4ed7d5525f): handler registration, device add/remove, and the
// config-space access paths vpci_read / vpci_write with their merge rules for partial and unhandled accesses.
// Calls to other model functions go through the table (lib/xen/fn.ts), so a strategy's patch can replace any of them.

import { M } from '../../mem/machine.js';
import { chk, xzalloc, xfree, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_lock_init, spin_lock, spin_unlock } from '../../sync/spinlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write8, pci_conf_write16, pci_conf_write32 } from '../../hw/index.js';
import { PCI_CFG_SPACE_EXP_SIZE } from '../../hw/pci_regs.js';
import { merge_result, sizeMask } from '../vpci-hw.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_REGISTER, VCPU, EINVAL, ENOMEM, EEXIST, ENOENT } from '../types.js';
import { CLASS, current } from '../state.js';
import { callRead, callWrite } from '../handlers.js';
import { fn } from '../fn.js';
import { init_fault_point, VPCI_INIT } from '../fault.js';
import type { PciDevPtr, VpciPtr, DomainPtr } from '../types.js';


export function has_vpci(d: number, where: string): boolean { return M[chk(d, DOMAIN, where) + DOMAIN.has_vpci] !== 0; }

/**
 * vpci_add_handlers (vpci.c L21 60-89): publish pdev->vpci, then run the init hooks in order and stop at the first
 * error; each hook call is a fault point (its -ENOMEM), so verify reaches every error path of the sequence.
 */
export function vpci_add_handlers(pdev: PciDevPtr): number {
  const where = 'vpci_add_handlers';
  if (!has_vpci(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where)) return 0;
  ASSERT(() => M[pdev + PCI_DEV.vpci] === NULL, where, '!pdev->vpci');
  const vpci = xzalloc(VPCI);
  if (vpci === NULL) return ENOMEM;
  spin_lock_init(vpci + VPCI.lock, CLASS.vpci_lock);
  M[pdev + PCI_DEV.vpci] = vpci;           // published before any handler is registered
  yield_point(SITE.vpci_add_handlers);
  let rc = 0;
  for (let i = 0; i < VPCI_INIT.length; i++) if ((rc = init_fault_point(i) ? ENOMEM : fn[VPCI_INIT[i]](pdev))) break;
  if (rc) fn.vpci_remove_device(pdev);
  return rc;
}

/**
 * vpci_remove_device (vpci.c L21 38-58): the lock word is freed with the struct it lives in. `before_free` is
 * where the v4 cancel patch hooks in (after the unlock, before the frees).
 */
export function vpci_remove_device(pdev: PciDevPtr, before_free?: (pdev: PciDevPtr) => void): number {
  const where = 'vpci_remove_device';
  if (!has_vpci(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where)) return 0;
  const vpci = chk(M[pdev + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);
  vpci_free_handlers(vpci, where);
  spin_unlock(vpci + VPCI.lock);
  yield_point(SITE['vpci_remove_device:after-unlock']);
  before_free?.(pdev);
  vpci_free(pdev, vpci, where);
  return 0;
}

/** Pop and free every register (caller holds the lock guarding vpci). */
export function vpci_free_handlers(vpci: number, where: string): void {
  for (let r = M[chk(vpci, VPCI, where) + VPCI.handlers]; r !== NULL; r = M[vpci + VPCI.handlers]) {
    M[vpci + VPCI.handlers] = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next];
    xfree(r, where);
  }
}

/** xfree(msix), xfree(msi), xfree(vpci), pdev->vpci = NULL — with the window before the NULL store. */
export function vpci_free(pdev: number, vpci: number, where: string): void {
  xfree(M[chk(vpci, VPCI, where) + VPCI.msix], where);
  xfree(M[vpci + VPCI.msi], where);
  xfree(vpci, where);
  yield_point(SITE['vpci_remove_device:after-free']);
  M[chk(pdev, PCI_DEV, where, 'write') + PCI_DEV.vpci] = NULL;
}

/** vpci_register_cmp: 0 if [offset, offset+size) overlap, -1 if r1 sorts first, +1 otherwise. */
function vpci_register_cmp(off1: number, size1: number, off2: number, size2: number): number {
  if (off1 < off2 + size2 && off1 + size1 > off2) return 0;
  return off1 < off2 ? -1 : 1;
}

export function vpci_add_register(vpci: VpciPtr, read: number, write: number, offset: number, size: number, data: number): number {
  const where = 'vpci_add_register';
  if ((size !== 1 && size !== 2 && size !== 4) || offset >= PCI_CFG_SPACE_EXP_SIZE || (offset & (size - 1)) || (!read && !write)) return EINVAL;
  const r = xzalloc(VPCI_REGISTER);
  if (r === NULL) return ENOMEM;
  M[r + VPCI_REGISTER.read] = read;
  M[r + VPCI_REGISTER.write] = write;
  M[r + VPCI_REGISTER.size] = size;
  M[r + VPCI_REGISTER.offset] = offset;
  M[r + VPCI_REGISTER.private] = data;
  spin_lock(chk(vpci, VPCI, where) + VPCI.lock);
  // The list of handlers must be kept sorted at all times: find the link to insert at.
  let link = vpci + VPCI.handlers;
  for (let t = M[link]; t !== NULL; link = t + VPCI_REGISTER.next, t = M[link]) {
    const cmp = vpci_register_cmp(offset, size, M[chk(t, VPCI_REGISTER, where) + VPCI_REGISTER.offset], M[t + VPCI_REGISTER.size]);
    if (cmp < 0) break;
    if (cmp === 0) { spin_unlock(vpci + VPCI.lock); xfree(r, where); return EEXIST; }
  }
  M[chk(r, VPCI_REGISTER, where, 'write') + VPCI_REGISTER.next] = M[link];
  M[link] = r;
  spin_unlock(vpci + VPCI.lock);
  return 0;
}

/** L21 removal rule: only an entry with exactly this offset and size, else -ENOENT. */
export function vpci_remove_register(vpci: VpciPtr, offset: number, size: number): number {
  const where = 'vpci_remove_register';
  spin_lock(chk(vpci, VPCI, where) + VPCI.lock);
  for (let link = vpci + VPCI.handlers, t = M[link]; t !== NULL; link = t + VPCI_REGISTER.next, t = M[link]) {
    const toff = M[chk(t, VPCI_REGISTER, where) + VPCI_REGISTER.offset], tsize = M[t + VPCI_REGISTER.size];
    if (toff === offset && tsize === size) {
      M[link] = M[t + VPCI_REGISTER.next];
      spin_unlock(vpci + VPCI.lock);
      xfree(t, where);
      return 0;
    }
    if (offset < toff) break;
  }
  spin_unlock(vpci + VPCI.lock);
  return ENOENT;
}


function current_domain(where: string): number { return M[chk(current(), VCPU, where) + VCPU.domain]; }

export function vpci_read(sbdf: number, reg: number, size: number): number {
  const where = 'vpci_read';
  if (size === 0) return 0xffffffff;
  const d = current_domain(where) as DomainPtr;
  fn.vpci_read_enter(d);
  const pdev = fn.pci_get_pdev(d, sbdf, where);
  yield_point(SITE['vpci_read:after-lookup']);
  const lock = pdev === NULL ? 0 : fn.vpci_lock(pdev, where);
  if (lock === 0) {
    fn.vpci_read_exit(d);
    return fn.vpci_read_hw(sbdf, reg, size);
  }
  const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
  let data = 0xffffffff, off = 0;
  for (let r = M[chk(vpci, VPCI, where) + VPCI.handlers]; r !== NULL; r = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next]) {
    chk(r, VPCI_REGISTER, where);
    const emuOff = reg + off, emuSize = size - off;
    const roff = M[r + VPCI_REGISTER.offset], rsize = M[r + VPCI_REGISTER.size];
    const cmp = vpci_register_cmp(emuOff, emuSize, roff, rsize);
    if (cmp < 0) break;
    if (cmp > 0) continue;
    if (emuOff < roff) {
      // Heading gap: read partial content from hardware.
      const n = roff - emuOff;
      data = merge_result(data, fn.vpci_read_hw(sbdf, emuOff, n), n, off);
      off += n;
    }
    chk(r, VPCI_REGISTER, where);            // the gap's hardware read may have let other CPUs run
    let val = callRead(M[r + VPCI_REGISTER.read], pdev, roff, M[r + VPCI_REGISTER.private]) >>> 0;
    if (roff < emuOff) val >>>= (emuOff - roff) * 8;   // the read starts in the middle of the register
    const n = Math.min(emuOff + emuSize, roff + rsize) - Math.max(emuOff, roff);
    data = merge_result(data, val, n, off);
    off += n;
    if (off === size) break;
    ASSERT(off < size, where, 'data_offset < size');
  }
  fn.vpci_unlock(pdev, lock);
  fn.vpci_read_exit(d);
  if (off < size) data = merge_result(data, fn.vpci_read_hw(sbdf, reg + off, size - off), size - off, off);
  return (data & sizeMask(size)) >>> 0;
}

/** vpci_write_helper (L21): a partial write reads the whole register first and merges; no ro/rw1c masks at L21. */
function vpci_write_helper(pdev: PciDevPtr, r: number, size: number, offset: number, data: number): void {
  const where = 'vpci_write_helper';
  const rsize = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.size];
  ASSERT(size <= rsize, 'vpci_write_helper', 'size <= r->size');
  if (size !== rsize) {
    const val = callRead(M[r + VPCI_REGISTER.read], pdev, M[r + VPCI_REGISTER.offset], M[r + VPCI_REGISTER.private]);
    data = merge_result(val, data, size, offset);
  }
  chk(r, VPCI_REGISTER, where);              // a partial write's read handler may have let other CPUs run
  callWrite(M[r + VPCI_REGISTER.write], pdev, M[r + VPCI_REGISTER.offset], (data & sizeMask(rsize)) >>> 0, M[r + VPCI_REGISTER.private]);
}

export function vpci_write(sbdf: number, reg: number, size: number, data: number): void {
  const where = 'vpci_write';
  if (size === 0) return;
  const d = current_domain(where) as DomainPtr;
  fn.vpci_write_enter(d);
  const pdev = fn.pci_get_pdev(d, sbdf, where);
  yield_point(SITE['vpci_write:after-lookup']);
  const lock = pdev === NULL ? 0 : fn.vpci_lock(pdev, where);
  if (lock === 0) {
    fn.vpci_write_exit(d);
    fn.vpci_write_hw(sbdf, reg, size, data);
    return;
  }
  const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
  let off = 0;
  for (let r = M[chk(vpci, VPCI, where) + VPCI.handlers]; r !== NULL; r = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next]) {
    chk(r, VPCI_REGISTER, where);
    const emuOff = reg + off, emuSize = size - off;
    const roff = M[r + VPCI_REGISTER.offset], rsize = M[r + VPCI_REGISTER.size];
    const cmp = vpci_register_cmp(emuOff, emuSize, roff, rsize);
    if (cmp < 0) break;
    if (cmp > 0) continue;
    if (emuOff < roff) {
      // Heading gap: write partial content to hardware.
      fn.vpci_write_hw(sbdf, emuOff, roff - emuOff, data >>> (off * 8));
      off += roff - emuOff;
    }
    const n = Math.min(emuOff + emuSize, roff + rsize) - Math.max(emuOff, roff);
    vpci_write_helper(pdev, r, n, reg + off - roff, data >>> (off * 8));
    off += n;
    if (off === size) break;
    ASSERT(off < size, where, 'data_offset < size');
  }
  fn.vpci_unlock(pdev, lock);
  fn.vpci_write_exit(d);
  if (off < size) fn.vpci_write_hw(sbdf, reg + off, size - off, data >>> (off * 8));
}
