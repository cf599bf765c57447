// xen/drivers/vpci/msi.c at HEAD (c447b7308b): the MSI capability's register handlers and init_msi / cleanup_msi,
// the MSI entry of cap.c's capability array (REGISTER_VPCI_CAP(MSI, init_msi, cleanup_msi), msi.c:334; first in
// the array: msi.o links before msix.o). Since late 2021 (lib/xen/l21/msi.ts) control_write binds PIRQs through
// the arch hooks (lib/xen/head/msi-arch.ts), address and data writes rebind an enabled MSI (update_msi), the 64-bit
// address and mask registers have handlers, and a failing init_msi no longer fails the device: cap.c cleans it up
// and hides the capability (lib/xen/head/cap.ts). Every handler runs under vpci_read/vpci_write, so with
// d->pci_lock (write for writes) and vpci->lock held. Line numbers below are msi.c's at c447b7308b.

import { M } from '../../mem/machine.js';
import { chk, xzalloc, xfree, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import { pci_conf_read16, pci_conf_write16 } from '../../hw/index.js';
import {
  PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QMASK, PCI_MSI_FLAGS_QSIZE, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT,
  PCI_COMMAND, PCI_COMMAND_INTX_DISABLE,
} from '../../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_MSI, ENOMEM } from '../types.js';
import { HANDLER, registerRead, registerWrite } from '../handlers.js';
import { fn } from '../fn.js';
import {
  msi_pos, msi_control_reg, msi_lower_address_reg, msi_upper_address_reg, msi_data_reg, msi_mask_bits_reg,
  msi_pending_bits_reg, is_64bit_address, is_mask_bit_support,
} from './msi-arch.js';
import type { PciDevPtr, VpciPtr } from '../types.js';

const fls = (x: number): number => 32 - Math.clz32(x);
const sbdfOf = (pdev: number, where: string): number => M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
const vpciOf = (pdev: number, where: string): VpciPtr => chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where) as VpciPtr;
const is_hardware_domain = (pdev: number, where: string): boolean =>
  M[chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], DOMAIN, where) + DOMAIN.is_hardware_domain] !== 0;

/** pdev->msi_maxvec (multi_msi_capable, set when the pdev is allocated): Multiple Message Capable. */
function msi_maxvec(pdev: number): number {
  const ctrl = pci_conf_read16(sbdfOf(pdev, 'msi_maxvec'), msi_control_reg(msi_pos(pdev, 'msi_maxvec')));
  return 1 << ((ctrl & PCI_MSI_FLAGS_QMASK) >> 1);
}

/** control_read (msi.c:26-36). */
function control_read(pdev: PciDevPtr, _reg: number, msi: number): number {
  chk(msi, VPCI_MSI, 'control_read');
  return ((fls(msi_maxvec(pdev)) - 1) << 1) | ((fls(M[msi + VPCI_MSI.vectors]) - 1) << 4) |
    (M[msi + VPCI_MSI.enabled] ? PCI_MSI_FLAGS_ENABLE : 0) | (M[msi + VPCI_MSI.masking] ? PCI_MSI_FLAGS_MASKBIT : 0) |
    (M[msi + VPCI_MSI.address64] ? PCI_MSI_FLAGS_64BIT : 0);
}

/** control_write (msi.c:38-91): a change of enable or of the vectors of an enabled MSI rebinds through the arch hooks. */
function control_write(pdev: PciDevPtr, reg: number, val: number, msi: number): void {
  const where = 'control_write';
  const vectors = Math.min(1 << ((val & PCI_MSI_FLAGS_QSIZE) >> 4), msi_maxvec(pdev));
  const new_enabled = (val & PCI_MSI_FLAGS_ENABLE) !== 0;
  const enabled = M[chk(msi, VPCI_MSI, where) + VPCI_MSI.enabled] !== 0;
  if (new_enabled === enabled && (vectors === M[msi + VPCI_MSI.vectors] || !enabled)) {
    M[msi + VPCI_MSI.vectors] = vectors;
    return;
  }
  if (new_enabled) {
    const old_enabled = enabled;
    if (enabled) {                                   // the number of vectors changed: disable, enable again
      fn.vpci_msi_arch_disable(msi, pdev);
      M[chk(msi, VPCI_MSI, where, 'write') + VPCI_MSI.enabled] = 0;
    }
    if (fn.vpci_msi_arch_enable(msi, pdev, vectors)) return;
    if (!old_enabled && !is_hardware_domain(pdev, where)) {   // a DomU must not enable INTx with MSI
      const sbdf = sbdfOf(pdev, where);
      pci_conf_write16(sbdf, PCI_COMMAND, pci_conf_read16(sbdf, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);   // pci_intx(pdev, false)
      M[vpciOf(pdev, where) + VPCI.guest_cmd] |= PCI_COMMAND_INTX_DISABLE;
    }
  } else {
    fn.vpci_msi_arch_disable(msi, pdev);
  }
  M[chk(msi, VPCI_MSI, where, 'write') + VPCI_MSI.vectors] = vectors;
  M[msi + VPCI_MSI.enabled] = new_enabled ? 1 : 0;
  pci_conf_write16(sbdfOf(pdev, where), reg, control_read(pdev, reg, msi));
}

/** update_msi (msi.c:93-99). */
function update_msi(pdev: PciDevPtr, msi: number): void {
  if (!M[chk(msi, VPCI_MSI, 'update_msi') + VPCI_MSI.enabled]) return;
  fn.vpci_msi_arch_update(msi, pdev);
}

/** mask_write (msi.c:171-195): only the enabled vectors whose bit changed go to the arch hook. */
function mask_write(pdev: PciDevPtr, val: number, msi: number): void {
  let dmask = (M[chk(msi, VPCI_MSI, 'mask_write') + VPCI_MSI.mask] ^ val) >>> 0;
  if (!dmask) return;
  if (M[msi + VPCI_MSI.enabled]) {
    dmask = (dmask & (0xffffffff >>> (32 - M[msi + VPCI_MSI.vectors]))) >>> 0;   // skip vectors not enabled
    while (dmask) {
      const i = 31 - Math.clz32(dmask & -dmask);
      fn.vpci_msi_arch_mask(msi, pdev, i, ((val >>> i) & 1) !== 0);
      dmask = (dmask & (dmask - 1)) >>> 0;
    }
  }
  M[chk(msi, VPCI_MSI, 'mask_write', 'write') + VPCI_MSI.mask] = val;
}

const msiOf = (data: number, where: string): number => chk(data, VPCI_MSI, where);
registerRead(HANDLER.head_msi_control_read, (pdev, reg, data) => control_read(pdev, reg, msiOf(data, 'control_read')));
registerWrite(HANDLER.head_msi_control_write, (pdev, reg, val, data) => control_write(pdev, reg, val, msiOf(data, 'control_write')));
// msi.c's field handlers are one shape: a read returns the field, a write stores it and calls update_msi.
const fieldRead = (field: number, where: string) => (_pdev: PciDevPtr, _reg: number, data: number): number => M[msiOf(data, where) + field];
const fieldWrite = (field: number, where: string) => (pdev: PciDevPtr, _reg: number, val: number, data: number): void => {
  const msi = msiOf(data, where);
  M[msi + field] = val;
  update_msi(pdev, msi);
};
// address_read / address_write (msi.c:101-120): the low half; address_hi_* (122-141) the high half.
registerRead(HANDLER.head_msi_address_read, fieldRead(VPCI_MSI.address_lo, 'address_read'));
registerWrite(HANDLER.head_msi_address_write, fieldWrite(VPCI_MSI.address_lo, 'address_write'));
registerRead(HANDLER.head_msi_address_hi_read, fieldRead(VPCI_MSI.address_hi, 'address_hi_read'));
registerWrite(HANDLER.head_msi_address_hi_write, fieldWrite(VPCI_MSI.address_hi, 'address_hi_write'));
// data_read / data_write (msi.c:143-160).
registerRead(HANDLER.head_msi_data_read, fieldRead(VPCI_MSI.data, 'data_read'));
registerWrite(HANDLER.head_msi_data_write, fieldWrite(VPCI_MSI.data, 'data_write'));
// mask_read (msi.c:163-169).
registerRead(HANDLER.head_msi_mask_read, fieldRead(VPCI_MSI.mask, 'mask_read'));
registerWrite(HANDLER.head_msi_mask_write, (pdev, _reg, val, data) => mask_write(pdev, val, msiOf(data, 'mask_write')));

/**
 * cleanup_msi (msi.c:197-255). Without `hide` (deassign, remove) it only frees the struct: a bound PIRQ is not
 * unbound here, as in Xen. With `hide` (init_msi failed) the capability's handlers go and Dom0 keeps MSI disabled
 * through a read-only control register; a DomU's unhandled registers read all-ones anyway.
 */
export function cleanup_msi(pdev: PciDevPtr, hide: boolean): number {
  const where = 'cleanup_msi';
  const vpci = vpciOf(pdev, where);
  const pos = msi_pos(pdev, where), ctrl = msi_control_reg(pos);
  if (!hide) {
    xfree(M[vpci + VPCI.msi], where);                               // XFREE
    M[vpci + VPCI.msi] = NULL;
    return 0;
  }
  if (M[vpci + VPCI.msi] !== NULL) {
    const control = pci_conf_read16(sbdfOf(pdev, where), ctrl);
    const address64 = is_64bit_address(control);
    // Without masking, "-2" cuts the reserved 2 bytes after Message Data (msi.c:216-223).
    const end = is_mask_bit_support(control) ? msi_pending_bits_reg(pos, address64) : msi_mask_bits_reg(pos, address64) - 2;
    const rc = fn.vpci_remove_registers(vpci, ctrl, end - ctrl);
    if (rc) {
      ASSERT(false, where, 'unreachable: fail to remove MSI handlers');
      return rc;
    }
    xfree(M[chk(vpci, VPCI, where) + VPCI.msi], where);
    M[vpci + VPCI.msi] = NULL;
  }
  if (!is_hardware_domain(pdev, where)) return 0;
  return fn.vpci_add_register(vpci, HANDLER.vpci_hw_read16, HANDLER.none, ctrl, 2, 0);   // rc only printed
}

/** init_msi (msi.c:257-333): on error the caller (cap.c) cleans up, so nothing is undone here. */
export function init_msi(pdev: PciDevPtr): number {
  const where = 'init_msi';
  const pos = msi_pos(pdev, where);
  if (!pos) return 0;
  const vpci = vpciOf(pdev, where);
  const msi = xzalloc(VPCI_MSI);
  M[vpci + VPCI.msi] = msi;
  if (msi === NULL) return ENOMEM;
  let ret = fn.vpci_add_register(vpci, HANDLER.head_msi_control_read, HANDLER.head_msi_control_write, msi_control_reg(pos), 2, msi);
  if (ret) return ret;
  chk(msi, VPCI_MSI, where, 'write');               // vpci_add_register's lock let other CPUs run
  const control = pci_conf_read16(sbdfOf(pdev, where), msi_control_reg(pos));
  ASSERT(() => msi_maxvec(pdev) <= 32, where, 'pdev->msi_maxvec <= 32');
  M[msi + VPCI_MSI.vectors] = 1;                     // Multiple Message Enable is 0 after reset
  fn.vpci_msi_arch_init(msi);
  const address64 = is_64bit_address(control);
  M[chk(msi, VPCI_MSI, where, 'write') + VPCI_MSI.address64] = address64 ? 1 : 0;
  M[msi + VPCI_MSI.masking] = is_mask_bit_support(control) ? 1 : 0;
  ret = fn.vpci_add_register(vpci, HANDLER.head_msi_address_read, HANDLER.head_msi_address_write, msi_lower_address_reg(pos), 4, msi);
  if (ret) return ret;
  ret = fn.vpci_add_register(vpci, HANDLER.head_msi_data_read, HANDLER.head_msi_data_write, msi_data_reg(pos, address64), 2, msi);
  if (ret) return ret;
  if (address64) {
    ret = fn.vpci_add_register(vpci, HANDLER.head_msi_address_hi_read, HANDLER.head_msi_address_hi_write, msi_upper_address_reg(pos), 4, msi);
    if (ret) return ret;
  }
  if (M[chk(msi, VPCI_MSI, where) + VPCI_MSI.masking]) {
    // The pending bits get no handler: Dom0 reads them directly (msi.c:325-329).
    ret = fn.vpci_add_register(vpci, HANDLER.head_msi_mask_read, HANDLER.head_msi_mask_write, msi_mask_bits_reg(pos, address64), 4, msi);
    if (ret) return ret;
  }
  yield_point(SITE.init_msi);
  return 0;
}
