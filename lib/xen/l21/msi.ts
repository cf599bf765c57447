// xen/drivers/vpci/msi.c as of late 2021: init_msi, the last REGISTER_VPCI_INIT hook (VPCI_PRIORITY_LOW, after
// init_msix and init_bars), and the MSI capability's handlers. Its place in the order is why it matters here: an
// init_msi failure comes after init_bars may have deferred a BAR map into `current`, and vpci_add_handlers then
// frees pdev->vpci under that pending work — a second trigger of the seed's crash path 1 (issue 15 §5).
// The arch hooks (vpci_msi_arch_enable/_disable/_update: PIRQ binding in vmsi.c) are not modelled; the
// capability's state is kept and written back as msi.c does.

import { M } from '../../mem/machine.js';
import { chk, xzalloc, NULL } from '../../mem/heap.js';
import { yield_point } from '../../sched/mode.js';
import { SITE } from '../../trace/sites.js';
import {
  pci_conf_read16, pci_conf_write16, PCI_CAP_ID_MSI, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QMASK,
  PCI_MSI_FLAGS_QSIZE, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_32,
} from '../../hw/index.js';
import { PCI_DEV, VPCI, VPCI_MSI, ENOMEM, INVALID_PIRQ } from '../types.js';
import { HANDLER, registerRead, registerWrite } from '../handlers.js';
import { fn } from '../fn.js';
import { pci_find_cap_offset } from '../pci.js';
import type { PciDevPtr } from '../types.js';

const fls = (x: number): number => 32 - Math.clz32(x);
const sbdfOf = (pdev: number, where: string): number => M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];

/** pdev->msi_maxvec (multi_msi_capable, msi.h): the vectors the device can do, from Multiple Message Capable. */
function msi_maxvec(pdev: number): number {
  const sbdf = sbdfOf(pdev, 'msi_maxvec');
  const pos = pci_find_cap_offset(sbdf, PCI_CAP_ID_MSI);
  return 1 << ((pci_conf_read16(sbdf, pos + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_QMASK) >> 1);
}

/** control_read (msi.c L21 25-35). */
function control_read(pdev: PciDevPtr, _reg: number, msi: number): number {
  chk(msi, VPCI_MSI, 'control_read');
  return ((fls(msi_maxvec(pdev)) - 1) << 1) | ((fls(M[msi + VPCI_MSI.vectors]) - 1) << 4) |
    (M[msi + VPCI_MSI.enabled] ? PCI_MSI_FLAGS_ENABLE : 0) | (M[msi + VPCI_MSI.masking] ? PCI_MSI_FLAGS_MASKBIT : 0) |
    (M[msi + VPCI_MSI.address64] ? PCI_MSI_FLAGS_64BIT : 0);
}

/** control_write (msi.c L21 37-82), the arch enable/disable left out. */
function control_write(pdev: PciDevPtr, reg: number, val: number, msi: number): void {
  const vectors = Math.min(1 << ((val & PCI_MSI_FLAGS_QSIZE) >> 4), msi_maxvec(pdev));
  chk(msi, VPCI_MSI, 'control_write', 'write');
  const enabled = (val & PCI_MSI_FLAGS_ENABLE) !== 0;
  if (enabled === (M[msi + VPCI_MSI.enabled] !== 0) && (vectors === M[msi + VPCI_MSI.vectors] || !M[msi + VPCI_MSI.enabled])) {
    M[msi + VPCI_MSI.vectors] = vectors;
    return;
  }
  M[msi + VPCI_MSI.vectors] = vectors;
  M[msi + VPCI_MSI.enabled] = enabled ? 1 : 0;
  pci_conf_write16(sbdfOf(pdev, 'control_write'), reg, control_read(pdev, reg, msi));
}

registerRead(HANDLER.msi_control_read, (pdev, reg, data) => control_read(pdev as PciDevPtr, reg, chk(data, VPCI_MSI, 'control_read')));
registerWrite(HANDLER.msi_control_write, (pdev, reg, val, data) => control_write(pdev as PciDevPtr, reg, val, chk(data, VPCI_MSI, 'control_write')));
registerRead(HANDLER.msi_address_read, (_pdev, _reg, data) => M[chk(data, VPCI_MSI, 'address_read') + VPCI_MSI.address_lo]);
registerWrite(HANDLER.msi_address_write, (_pdev, _reg, val, data) => { M[chk(data, VPCI_MSI, 'address_write') + VPCI_MSI.address_lo] = val; });
registerRead(HANDLER.msi_data_read, (_pdev, _reg, data) => M[chk(data, VPCI_MSI, 'data_read') + VPCI_MSI.data]);
registerWrite(HANDLER.msi_data_write, (_pdev, _reg, val, data) => { M[chk(data, VPCI_MSI, 'data_write') + VPCI_MSI.data] = val & 0xffff; });

/** init_msi (msi.c L21 184-263): the device's capability is 32-bit addressed without masking, so three registers. */
export function init_msi(pdev: PciDevPtr): number {
  const where = 'init_msi';
  const pos = pci_find_cap_offset(sbdfOf(pdev, where), PCI_CAP_ID_MSI);
  if (!pos) return 0;
  const vpci = chk(M[pdev + PCI_DEV.vpci], VPCI, where);
  const msi = xzalloc(VPCI_MSI);
  M[vpci + VPCI.msi] = msi;
  if (msi === NULL) return ENOMEM;
  // "no need to free the msi struct or remove the register handlers ..., the caller will take care of the cleanup"
  let ret = fn.vpci_add_register(vpci, HANDLER.msi_control_read, HANDLER.msi_control_write, pos + PCI_MSI_FLAGS, 2, msi);
  if (ret) return ret;
  chk(msi, VPCI_MSI, where, 'write');    // vpci_add_register's lock let other CPUs run
  M[msi + VPCI_MSI.vectors] = 1;
  M[msi + VPCI_MSI.arch_pirq] = INVALID_PIRQ;                        // vpci_msi_arch_init
  ret = fn.vpci_add_register(vpci, HANDLER.msi_address_read, HANDLER.msi_address_write, pos + PCI_MSI_ADDRESS_LO, 4, msi);
  if (ret) return ret;
  ret = fn.vpci_add_register(vpci, HANDLER.msi_data_read, HANDLER.msi_data_write, pos + PCI_MSI_DATA_32, 2, msi);
  if (ret) return ret;
  yield_point(SITE.init_msi);
  return ret;
}
