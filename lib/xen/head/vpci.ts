// xen/drivers/vpci/vpci.c at HEAD (c447b7308b): vpci_assign_device / vpci_deassign_device (f20dde9259), register
// handling with masks (a3c8fb450a, 8623318157), and vpci_read / vpci_write under d->pci_lock (4f78438b45) with
// HEAD's merge rules (model document C.4). Line numbers below are vpci.c at c447b7308b.

import { M } from '../../mem/machine.js';
import { chk, xzalloc, xfree, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_lock_init, spin_lock, spin_unlock } from '../../sync/spinlock.js';
import { read_lock, read_unlock, write_lock, write_unlock, rw_is_write_locked, rw_is_locked } from '../../sync/rwlock.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { PCI_CFG_SPACE_EXP_SIZE } from '../../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_REGISTER, VCPU, BAR, NR_BARS, EINVAL, ENOMEM, EEXIST, ERANGE } from '../types.js';
import { CLASS, current, dom_xen } from '../state.js';
import { callRead, callWrite } from '../handlers.js';
import { rangeset_destroy } from '../rangeset.js';
import { fn } from '../fn.js';
import { merge_result } from '../vpci-hw.js';   // vpci.c:467-473, the same function at L21
import { init_fault_point } from '../fault.js';
import { faultIndex } from './cap.js';
import { bar } from '../bars.js';                // &header->bars[i]: the struct layout both generations share
import { list_next } from '../list.js';
import type { PciDevPtr, VpciPtr, DomainPtr } from '../types.js';

const pciLock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.pci_lock;
export const has_vpci = (d: number, where: string): boolean => M[chk(d, DOMAIN, where) + DOMAIN.has_vpci] !== 0;
const is_hardware_domain = (d: number, where: string): boolean => M[chk(d, DOMAIN, where) + DOMAIN.is_hardware_domain] !== 0;

/** vpci_deassign_device (vpci.c:90-124): capabilities first, then handlers under vpci->lock, BAR rangesets, vpci. */
export function vpci_deassign_device(pdev: PciDevPtr): void {
  const where = 'vpci_deassign_device';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  ASSERT(() => rw_is_write_locked(pciLock(d, where)), where, 'rw_is_write_locked(&pdev->domain->pci_lock)');
  if (!has_vpci(d, where) || M[pdev + PCI_DEV.vpci] === NULL) return;
  fn.vpci_cleanup_capabilities(pdev);              // vpci.c:105: MSI-X off d->arch.hvm.msix_tables, freed
  const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);
  for (let r = M[chk(vpci, VPCI, where) + VPCI.handlers]; r !== NULL; r = M[vpci + VPCI.handlers]) {
    M[vpci + VPCI.handlers] = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next];
    xfree(r, where);
  }
  spin_unlock(vpci + VPCI.lock);
  yield_point(SITE.vpci_deassign_device);
  for (let i = 0; i < NR_BARS; i++) rangeset_destroy(M[bar(chk(vpci, VPCI, where), i) + BAR.mem], where);
  xfree(vpci, where);
  yield_point(SITE['vpci_remove_device:after-free']);
  M[chk(pdev, PCI_DEV, where, 'write') + PCI_DEV.vpci] = NULL;
}

/** vpci_assign_device (vpci.c:126-169): caller holds pdev->domain->pci_lock for writing. */
export function vpci_assign_device(pdev: PciDevPtr): number {
  const where = 'vpci_assign_device';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  ASSERT(() => rw_is_write_locked(pciLock(d, where)), where, 'rw_is_write_locked(&pdev->domain->pci_lock)');
  if (!has_vpci(d, where)) return 0;
  ASSERT(() => M[pdev + PCI_DEV.vpci] === NULL, where, '!pdev->vpci');     // vpci.c:137
  // No r/o devices in the lab (pci_get_ro_map is empty).
  const vpci = xzalloc(VPCI);
  if (vpci === NULL) return ENOMEM;
  spin_lock_init(vpci + VPCI.lock, CLASS.vpci_lock);
  M[pdev + PCI_DEV.vpci] = vpci;
  yield_point(SITE.vpci_assign_device);
  // assign_virtual_sbdf (vpci.c:28-66): the lab gives the guest the host SBDF (no virtual topology; see README).
  // vpci_init_header is late 2021's init_bars renamed: the same fault point (`--faults init`, x.failNext('init_bars')).
  let rc = init_fault_point(faultIndex('init_bars')) ? ENOMEM : fn.vpci_init_header(pdev);
  if (!rc) rc = fn.vpci_init_capabilities(pdev);   // vpci.c:162: init_msix, after the header
  if (rc) fn.vpci_deassign_device(pdev);
  return rc;
}

/** vpci_reset_device (vpci.h:241-245). */
export function vpci_reset_device(pdev: PciDevPtr): number {
  fn.vpci_deassign_device(pdev);
  return fn.vpci_assign_device(pdev);
}

/** vpci_register_cmp (vpci.c:201-215). */
export function vpci_register_cmp(off1: number, size1: number, off2: number, size2: number): number {
  if (off1 < off2 + size2 && off2 < off1 + size1) return 0;
  return off1 < off2 ? -1 : 1;
}

/** vpci_add_register_mask (vpci.c:265-324). */
export function vpci_add_register_mask(vpci: VpciPtr, read: number, write: number, offset: number, size: number, data: number,
  ro: number, rw1c: number, rsvdp: number, rsvdz: number): number {
  const where = 'vpci_add_register';
  if ((size !== 1 && size !== 2 && size !== 4) || offset >= PCI_CFG_SPACE_EXP_SIZE || (offset & (size - 1)) || (!read && !write) ||
      (ro & rw1c) || (ro & rsvdp) || (ro & rsvdz) || (rw1c & rsvdp) || (rw1c & rsvdz) || (rsvdp & rsvdz)) return EINVAL;
  if (size !== 4 && ((ro | rw1c | rsvdp | rsvdz) >>> (8 * size))) return EINVAL;     // vpci.c:283-285
  const r = xzalloc(VPCI_REGISTER);
  if (r === NULL) return ENOMEM;
  M[r + VPCI_REGISTER.read] = read;
  M[r + VPCI_REGISTER.write] = write;
  M[r + VPCI_REGISTER.size] = size;
  M[r + VPCI_REGISTER.offset] = offset;
  M[r + VPCI_REGISTER.private] = data;
  M[r + VPCI_REGISTER.ro_mask] = ro;
  M[r + VPCI_REGISTER.rw1c_mask] = rw1c;
  M[r + VPCI_REGISTER.rsvdp_mask] = rsvdp;
  M[r + VPCI_REGISTER.rsvdz_mask] = rsvdz;
  spin_lock(chk(vpci, VPCI, where) + VPCI.lock);
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

/** vpci_add_register (vpci.c:326-332): no masks. */
export function vpci_add_register(vpci: VpciPtr, read: number, write: number, offset: number, size: number, data: number): number {
  return fn.vpci_add_register_mask(vpci, read, write, offset, size, data, 0, 0, 0, 0);
}

/** vpci_remove_registers (vpci.c:334-364): registers inside the range go; one straddling its edge is -ERANGE. */
export function vpci_remove_registers(vpci: VpciPtr, start: number, size: number): number {
  const where = 'vpci_remove_registers';
  const end = start + size;
  spin_lock(chk(vpci, VPCI, where) + VPCI.lock);
  for (let link = vpci + VPCI.handlers, rm = M[link]; rm !== NULL; rm = M[link]) {
    const off = M[chk(rm, VPCI_REGISTER, where) + VPCI_REGISTER.offset], sz = M[rm + VPCI_REGISTER.size];
    if (off >= start && off + sz <= end) { M[link] = M[rm + VPCI_REGISTER.next]; xfree(rm, where); continue; }
    if (off + sz > start && off < end) { spin_unlock(vpci + VPCI.lock); return ERANGE; }
    if (start < off) break;
    link = rm + VPCI_REGISTER.next;
  }
  spin_unlock(vpci + VPCI.lock);
  return 0;
}

/** The backwards-compatible single-register removal name the L21 tests use: HEAD's range removal. */
export const vpci_remove_register = vpci_remove_registers;

/** translate_virtual_device (vpci.c:176-199): a DomU finds its device on d->pdev_list (guest SBDF = host SBDF here). */
function translate_virtual_device(d: number, sbdf: number, where: string): PciDevPtr {
  ASSERT(() => rw_is_locked(pciLock(d, where)), where, 'rw_is_locked(&d->pci_lock)');
  for (let p = M[d + DOMAIN.pdev_list]; p !== NULL; p = list_next(p, PCI_DEV.domain_next, where)) {
    if (M[chk(p, PCI_DEV, where) + PCI_DEV.vpci] !== NULL && M[p + PCI_DEV.sbdf] === sbdf) return p as PciDevPtr;
  }
  return NULL;
}

/**
 * vpci.c:495-503 / 619-627: hwdom looks on alldevs_list (pci_get_pdev), then on dom_xen's pdev_list ("acquiring
 * hwdom's pci_lock is sufficient", vpci.c:488-490 — dom_xen's list and devices change under dom_xen's lock); a DomU
 * translates.
 */
function lookup(d: DomainPtr, sbdf: number, where: string): PciDevPtr {
  if (!is_hardware_domain(d, where)) return translate_virtual_device(d, sbdf, where);
  const pdev = fn.pci_get_pdev(d, sbdf, where);
  return pdev !== NULL ? pdev : fn.pci_get_pdev(dom_xen(), sbdf, where);
}

const sizeMask = (size: number): number => (size >= 4 ? 0xffffffff : (1 << (8 * size)) - 1);
const current_domain = (where: string): number => M[chk(current(), VCPU, where) + VCPU.domain];

/** vpci_read (vpci.c:475-568): d->pci_lock read across lookup and walk, rsvdp/rsvdz bits read as 0 (vpci.c:539). */
/**
 * `pdev->vpci` as vpci_read and vpci_write read it: afresh at each use (vpci.c:511, 514, 549 and 641, 644, 676), not
 * once into a local, so a pdev freed under the access faults here, in the access, as the compiled C does.
 */
function pdevVpci(pdev: number, where: string): number {
  return chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
}

export function vpci_read(sbdf: number, reg: number, size: number): number {
  const where = 'vpci_read';
  if (size === 0) return 0xffffffff;
  const d = current_domain(where) as DomainPtr;
  read_lock(pciLock(d, where));
  const pdev = lookup(d, sbdf, where);
  yield_point(SITE['vpci_read:after-lookup']);
  if (pdev === NULL || M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] === NULL) {
    read_unlock(d + DOMAIN.pci_lock);
    return fn.vpci_read_hw(sbdf, reg, size);
  }
  spin_lock(pdevVpci(pdev, where) + VPCI.lock);
  let data = 0xffffffff, off = 0;
  for (let r = M[pdevVpci(pdev, where) + VPCI.handlers]; r !== NULL; r = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next]) {
    chk(r, VPCI_REGISTER, where);
    const emuOff = reg + off, emuSize = size - off;
    const roff = M[r + VPCI_REGISTER.offset], rsize = M[r + VPCI_REGISTER.size];
    const cmp = vpci_register_cmp(emuOff, emuSize, roff, rsize);
    if (cmp < 0) break;
    if (cmp > 0) continue;
    if (emuOff < roff) {
      const n = roff - emuOff;
      data = merge_result(data, fn.vpci_read_hw(sbdf, emuOff, n), n, off);
      off += n;
    }
    chk(r, VPCI_REGISTER, where);            // the gap's hardware read may have let other CPUs run
    let val = callRead(M[r + VPCI_REGISTER.read], pdev, roff, M[r + VPCI_REGISTER.private]) >>> 0;
    val = (val & ~(M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.rsvdp_mask] | M[r + VPCI_REGISTER.rsvdz_mask])) >>> 0;
    if (roff < emuOff) val >>>= (emuOff - roff) * 8;
    const n = Math.min(emuOff + emuSize, roff + rsize) - Math.max(emuOff, roff);
    data = merge_result(data, val, n, off);
    off += n;
    if (off === size) break;
    ASSERT(off < size, where, 'data_offset < size');
  }
  spin_unlock(pdevVpci(pdev, where) + VPCI.lock);
  read_unlock(d + DOMAIN.pci_lock);
  if (off < size) data = merge_result(data, fn.vpci_read_hw(sbdf, reg + off, size - off), size - off, off);
  return (data & sizeMask(size)) >>> 0;
}

/** vpci_write_helper (vpci.c:573-594): ro and rsvdp bits keep their value, rw1c bits read as 0, rsvdz written as 0. */
export function vpci_write_helper(pdev: PciDevPtr, r: number, size: number, offset: number, data: number): void {
  const where = 'vpci_write_helper';
  const rsize = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.size];
  const preserved = (M[r + VPCI_REGISTER.ro_mask] | M[r + VPCI_REGISTER.rsvdp_mask]) >>> 0;
  let curval = 0;
  ASSERT(size <= rsize, 'vpci_write_helper', 'size <= r->size');
  if (size !== rsize || preserved) {
    curval = callRead(M[r + VPCI_REGISTER.read], pdev, M[r + VPCI_REGISTER.offset], M[r + VPCI_REGISTER.private]) >>> 0;
    curval = (curval & ~M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.rw1c_mask]) >>> 0;
    data = merge_result(curval, data, size, offset);
  }
  data = (data & ~(preserved | M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.rsvdz_mask])) >>> 0;
  data = (data | (curval & preserved)) >>> 0;
  callWrite(M[r + VPCI_REGISTER.write], pdev, M[r + VPCI_REGISTER.offset], (data & sizeMask(rsize)) >>> 0, M[r + VPCI_REGISTER.private]);
}

/** vpci_write (vpci.c:596-683): d->pci_lock held for writing over the whole access (its TODO, vpci.c:616-617). */
export function vpci_write(sbdf: number, reg: number, size: number, data: number): void {
  const where = 'vpci_write';
  if (size === 0) return;
  const d = current_domain(where) as DomainPtr;
  write_lock(pciLock(d, where));
  const pdev = lookup(d, sbdf, where);
  yield_point(SITE['vpci_write:after-lookup']);
  if (pdev === NULL || M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] === NULL) {
    write_unlock(d + DOMAIN.pci_lock);
    fn.vpci_write_hw(sbdf, reg, size, data);       // no r/o map in the lab
    return;
  }
  spin_lock(pdevVpci(pdev, where) + VPCI.lock);
  let off = 0;
  for (let r = M[pdevVpci(pdev, where) + VPCI.handlers]; r !== NULL; r = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next]) {
    chk(r, VPCI_REGISTER, where);
    const emuOff = reg + off, emuSize = size - off;
    const roff = M[r + VPCI_REGISTER.offset], rsize = M[r + VPCI_REGISTER.size];
    const cmp = vpci_register_cmp(emuOff, emuSize, roff, rsize);
    if (cmp < 0) break;
    if (cmp > 0) continue;
    if (emuOff < roff) {
      fn.vpci_write_hw(sbdf, emuOff, roff - emuOff, data >>> (off * 8));
      off += roff - emuOff;
    }
    const n = Math.min(emuOff + emuSize, roff + rsize) - Math.max(emuOff, roff);
    vpci_write_helper(pdev, r, n, reg + off - roff, data >>> (off * 8));
    off += n;
    if (off === size) break;
    ASSERT(off < size, where, 'data_offset < size');
  }
  spin_unlock(pdevVpci(pdev, where) + VPCI.lock);
  write_unlock(d + DOMAIN.pci_lock);
  if (off < size) fn.vpci_write_hw(sbdf, reg + off, size - off, data >>> (off * 8));
}
