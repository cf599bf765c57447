// The emulated capability list of HEAD's cap.c (c447b7308b): vpci_init_capability_list builds it from the device's
// own list before any capability's init runs (the hardware domain sees every capability, a DomU only MSI and
// MSI-X, and a DomU with none gets PCI_STATUS_CAP_LIST masked), and vpci_capability_hide unlinks one whose init
// failed. The lab's devices are conventional PCI: no extended configuration space, so the extended list
// (vpci_init_ext_capability_list, vpci_ext_capability_hide) has nothing to do and is left out. Line numbers are
// cap.c's unless said.

import { M } from '../../mem/machine.js';
import { chk, xfree, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_lock, spin_unlock, spin_is_locked } from '../../sync/spinlock.js';
import { pci_conf_read8, pci_conf_read16 } from '../../hw/index.js';
import {
  PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_STATUS_IMM_READY, PCI_STATUS_INTERRUPT, PCI_STATUS_66MHZ, PCI_STATUS_FAST_BACK,
  PCI_STATUS_DEVSEL_MASK, PCI_STATUS_PARITY, PCI_STATUS_SIG_TARGET_ABORT, PCI_STATUS_REC_TARGET_ABORT,
  PCI_STATUS_REC_MASTER_ABORT, PCI_STATUS_SIG_SYSTEM_ERROR, PCI_STATUS_DETECTED_PARITY, PCI_CAPABILITY_LIST,
  PCI_CAP_LIST_ID, PCI_CAP_LIST_NEXT, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX,
} from '../../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_REGISTER, ENODEV } from '../types.js';
import { HANDLER } from '../handlers.js';
import { fn } from '../fn.js';
import { pci_find_cap_offset } from '../pci.js';
import type { PciDevPtr, VpciPtr } from '../types.js';

// pci_regs.h at HEAD (70-78): the PCI_STATUS masks a DomU's view is made with.
const PCI_STATUS_RSVDZ_MASK = 0x0046;
const PCI_STATUS_RO_MASK = PCI_STATUS_IMM_READY | PCI_STATUS_INTERRUPT | PCI_STATUS_CAP_LIST | PCI_STATUS_66MHZ |
  PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MASK;
const PCI_STATUS_RW1C_MASK = PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |
  PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY;

const vpciOf = (pdev: number, where: string): VpciPtr => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where) as VpciPtr;
const is_hardware_domain = (pdev: number, where: string): boolean =>
  M[chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], DOMAIN, where) + DOMAIN.is_hardware_domain] !== 0;

/** vpci_get_register (vpci.c:70-88): the register at exactly offset/size; the list is sorted by offset. */
export function vpci_get_register(vpci: number, offset: number, size: number): number {
  const where = 'vpci_get_register';
  ASSERT(() => spin_is_locked(chk(vpci, VPCI, where) + VPCI.lock), where, 'spin_is_locked(&vpci->lock)');
  for (let r = M[vpci + VPCI.handlers]; r !== NULL; r = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.next]) {
    const roff = M[chk(r, VPCI_REGISTER, where) + VPCI_REGISTER.offset];
    if (roff === offset && M[r + VPCI_REGISTER.size] === size) return r;
    if (offset <= roff) break;
  }
  return NULL;
}

/** vpci_get_previous_cap_register (14-38): the pointer register (0x34 or a Next field) whose value is offset. */
function vpci_get_previous_cap_register(vpci: number, offset: number): number {
  if (offset < 0x40) {
    ASSERT(false, 'vpci_get_previous_cap_register', 'unreachable: offset < 0x40');
    return NULL;
  }
  let r = vpci_get_register(vpci, PCI_CAPABILITY_LIST, 1);
  while (r !== NULL) {
    const next = M[chk(r, VPCI_REGISTER, 'vpci_get_previous_cap_register') + VPCI_REGISTER.private];
    if (next === offset) break;
    r = next >= 0x40 ? vpci_get_register(vpci, next + PCI_CAP_LIST_NEXT, 1) : NULL;
  }
  return r;
}

/** list_del(&r->node) on the model's singly linked handler list. */
function list_del_register(vpci: number, r: number, where: string): void {
  let link = vpci + VPCI.handlers;
  while (M[link] !== r) link = chk(M[link], VPCI_REGISTER, where) + VPCI_REGISTER.next;
  M[link] = M[r + VPCI_REGISTER.next];
}

/** vpci_capability_hide (40-74): the previous pointer skips the capability; a DomU also loses its ID register. */
export function vpci_capability_hide(pdev: PciDevPtr, cap: number): number {
  const where = 'vpci_capability_hide';
  const offset = pci_find_cap_offset(M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf], cap);
  const vpci = vpciOf(pdev, where);
  if (!offset) {
    ASSERT(false, where, 'unreachable: no such capability');
    return 0;
  }
  spin_lock(vpci + VPCI.lock);
  const prev_r = vpci_get_previous_cap_register(vpci, offset);
  const next_r = vpci_get_register(vpci, offset + PCI_CAP_LIST_NEXT, 1);
  if (prev_r === NULL || next_r === NULL) {
    spin_unlock(vpci + VPCI.lock);
    return ENODEV;
  }
  M[chk(prev_r, VPCI_REGISTER, where, 'write') + VPCI_REGISTER.private] = M[chk(next_r, VPCI_REGISTER, where) + VPCI_REGISTER.private];
  list_del_register(vpci, next_r, where);          // not vpci_remove_registers: no second search (64-65)
  spin_unlock(vpci + VPCI.lock);
  xfree(next_r, where);
  if (!is_hardware_domain(pdev, where)) return fn.vpci_remove_registers(vpci, offset + PCI_CAP_LIST_ID, 1);
  return 0;
}

/**
 * pci_find_next_cap_ttl (drivers/pci/pci.c:42-73): the next capability from the pointer at pos whose ID is in
 * caps (any when caps is empty). `ttl.n` counts down as C's `while ((*ttl)--)`, wrapping when it ends at 0.
 */
export function pci_find_next_cap_ttl(sbdf: number, pos: number, caps: readonly number[], ttl: { n: number }): number {
  for (;;) {
    const t = ttl.n;
    ttl.n = (t - 1) >>> 0;
    if (!t) break;
    pos = pci_conf_read8(sbdf, pos);
    if (pos < 0x40) break;
    const id = pci_conf_read8(sbdf, (pos & ~3) + PCI_CAP_LIST_ID);
    if (id === 0xff) break;
    if (caps.length === 0 || caps.includes(id)) return pos;
    pos = (pos & ~3) + PCI_CAP_LIST_NEXT;
  }
  return 0;
}

/** vpci_init_capability_list (162-242). */
export function vpci_init_capability_list(pdev: PciDevPtr): number {
  const where = 'vpci_init_capability_list';
  const sbdf = M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf], vpci = vpciOf(pdev, where);
  const is_hwdom = is_hardware_domain(pdev, where);
  let mask_cap_list = false, rc: number;
  if (pci_conf_read16(sbdf, PCI_STATUS) & PCI_STATUS_CAP_LIST) {
    // Only expose what vPCI can handle; Dom0 sees every capability (n = 0, 181).
    const caps = is_hwdom ? [] : [PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX];
    const ttl = { n: 48 };
    const wr = is_hwdom ? HANDLER.vpci_hw_write8 : HANDLER.none;
    let next = pci_find_next_cap_ttl(sbdf, PCI_CAPABILITY_LIST, caps, ttl);
    if ((rc = fn.vpci_add_register(vpci, HANDLER.vpci_read_val, wr, PCI_CAPABILITY_LIST, 1, next))) return rc;
    next &= ~3;
    if (!next && !is_hwdom) mask_cap_list = true;
    while (next && ttl.n) {
      const pos = next;
      next = pci_find_next_cap_ttl(sbdf, pos + PCI_CAP_LIST_NEXT, caps, ttl);
      if (!is_hwdom && (rc = fn.vpci_add_register(vpci, HANDLER.vpci_hw_read8, HANDLER.none, pos + PCI_CAP_LIST_ID, 1, 0))) return rc;
      if ((rc = fn.vpci_add_register(vpci, HANDLER.vpci_read_val, wr, pos + PCI_CAP_LIST_NEXT, 1, next))) return rc;
      next &= ~3;
    }
  }
  if (is_hwdom) return 0;                          // no masking of PCI_STATUS for Dom0
  // A DomU's PCI_STATUS: rsvdp hides PCI_STATUS_CAP_LIST when nothing is exposed (234-241).
  const capBit = mask_cap_list ? PCI_STATUS_CAP_LIST : 0;
  return fn.vpci_add_register_mask(vpci, HANDLER.vpci_hw_read16, HANDLER.vpci_hw_write16, PCI_STATUS, 2, 0,
    PCI_STATUS_RO_MASK & ~capBit, PCI_STATUS_RW1C_MASK, capBit, PCI_STATUS_RSVDZ_MASK);
}
