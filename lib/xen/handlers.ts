// Register callbacks as small integers, the way struct vpci_register stores function pointers: the number lives
// in shared memory, each thread maps it to its own copy of the function. Ids are fixed here, so every thread agrees.
// The header handlers dispatch through the model table, so each generation (and each patch) supplies its own.

import { M } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write8, pci_conf_write16 } from '../hw/index.js';
import { PCI_DEV } from './types.js';
import { fn } from './fn.js';
import type { PciDevPtr } from './types.js';

export type ReadHandler = (pdev: PciDevPtr, reg: number, data: number) => number;
export type WriteHandler = (pdev: PciDevPtr, reg: number, val: number, data: number) => void;

export const HANDLER = {
  none: 0,
  // reads (guest_* and vpci_read_val: HEAD's DomU view, header.c:554-675, vpci.c:229-233)
  vpci_hw_read16: 1, vpci_hw_read32: 2, control_read: 3, guest_cmd_read: 4, guest_mem_bar_read: 5, vpci_read_val: 6,
  // writes
  cmd_write: 1, bar_write: 2, rom_write: 3, control_write: 4, guest_mem_bar_write: 5,
  // msi.c's static handlers (the names clash with msix.c's, hence the prefix)
  msi_control_read: 7, msi_address_read: 8, msi_data_read: 9,
  msi_control_write: 6, msi_address_write: 7, msi_data_write: 8,
  // vpci.c's passthrough helpers cap.c registers for the emulated capability list (HEAD cap.c:162-242)
  vpci_hw_read8: 10, vpci_hw_write8: 9, vpci_hw_write16: 10,
  // HEAD msi.c's handlers (lib/xen/head/msi.ts): control_write binds PIRQs there, and 64-bit and mask registers exist
  head_msi_control_read: 11, head_msi_address_read: 12, head_msi_address_hi_read: 13, head_msi_data_read: 14, head_msi_mask_read: 15,
  head_msi_control_write: 11, head_msi_address_write: 12, head_msi_address_hi_write: 13, head_msi_data_write: 14, head_msi_mask_write: 15,
  /** First id free for tests and scenarios (tools/tests/vpci style storage handlers). */
  user: 32,
} as const;

const readers: ReadHandler[] = [];
const writers: WriteHandler[] = [];

export function registerRead(id: number, fn: ReadHandler): void { readers[id] = fn; }
export function registerWrite(id: number, fn: WriteHandler): void { writers[id] = fn; }

/** vpci_ignored_read / vpci_ignored_write stand in for a missing callback (id 0). */
export function callRead(id: number, pdev: PciDevPtr, reg: number, data: number): number {
  if (id === HANDLER.none) return 0xffffffff;
  return readers[id](pdev, reg, data);
}
export function callWrite(id: number, pdev: PciDevPtr, reg: number, val: number, data: number): void {
  if (id === HANDLER.none) return;
  writers[id](pdev, reg, val, data);
}

const sbdfOf = (pdev: number, where: string): number => M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
registerRead(HANDLER.vpci_hw_read16, (pdev, reg) => pci_conf_read16(sbdfOf(pdev, 'vpci_hw_read16'), reg));
registerRead(HANDLER.vpci_hw_read32, (pdev, reg) => pci_conf_read32(sbdfOf(pdev, 'vpci_hw_read32'), reg));
registerRead(HANDLER.vpci_hw_read8, (pdev, reg) => pci_conf_read8(sbdfOf(pdev, 'vpci_hw_read8'), reg));
registerWrite(HANDLER.vpci_hw_write8, (pdev, reg, val) => pci_conf_write8(sbdfOf(pdev, 'vpci_hw_write8'), reg, val));
registerWrite(HANDLER.vpci_hw_write16, (pdev, reg, val) => pci_conf_write16(sbdfOf(pdev, 'vpci_hw_write16'), reg, val));
registerWrite(HANDLER.cmd_write, (pdev, reg, val) => fn.cmd_write(pdev, reg, val));
registerWrite(HANDLER.bar_write, (pdev, reg, val, data) => fn.bar_write(pdev, reg, val, data));
registerWrite(HANDLER.rom_write, (pdev, reg, val, data) => fn.rom_write(pdev, reg, val, data));
registerRead(HANDLER.control_read, (pdev, reg, data) => fn.control_read(pdev, reg, data));
registerWrite(HANDLER.control_write, (pdev, reg, val, data) => fn.control_write(pdev, reg, val, data));
registerRead(HANDLER.guest_cmd_read, (pdev, reg, data) => fn.guest_cmd_read(pdev, reg, data));
registerRead(HANDLER.guest_mem_bar_read, (pdev, reg, data) => fn.guest_mem_bar_read(pdev, reg, data));
registerRead(HANDLER.vpci_read_val, (_pdev, _reg, data) => data);
registerWrite(HANDLER.guest_mem_bar_write, (pdev, reg, val, data) => fn.guest_mem_bar_write(pdev, reg, val, data));
