// One guest's MSI-X sequence on the standard machine's device, for the tests that run it against the TypeScript model
// (test/lib/xen/msix.test.ts) and against a compiled msix.c (test/lib/cxen/msix-417.test.ts): write entry 2's
// message through the trapped table, enable MSI-X, unmask the entry, and find the device programmed.

import assert from 'node:assert/strict';
import {
  pci_conf_read8, pci_conf_read16, msix_entry_read, PCI_CAPABILITY_LIST, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET,
} from '../lib/hw/index.js';
import { fn } from '../lib/xen/fn.js';
import { guest_mmio_write } from '../lib/xen/intercept.js';
import { msixEntryAddr } from '../lib/lab/workload.js';

/** The message the guest writes into entry 2. */
export const ENTRY2 = { addr: 0xfee01000, data: 0x4041 };

/** The guest (the current vCPU) writes entry 2's message through the trapped table; returns a field's address. */
export function writeEntry2(dev: number): (field: number) => number {
  const at = (f: number): number => msixEntryAddr(dev, 2, f)!;
  guest_mmio_write(at(PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET), 4, ENTRY2.addr);
  guest_mmio_write(at(PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET), 4, 0);
  guest_mmio_write(at(PCI_MSIX_ENTRY_DATA_OFFSET), 4, ENTRY2.data);
  return at;
}

/** The guest enables MSI-X (control_write) and unmasks entry 2 (update_entry, the arch hook). */
export function enableAndUnmaskEntry2(dev: number, at: (field: number) => number): void {
  const pos = pci_conf_read8(dev, PCI_CAPABILITY_LIST);
  fn.vpci_write(dev, pos + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
  assert.equal(pci_conf_read16(dev, pos + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_ENABLE);
  guest_mmio_write(at(PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 4, 0);
}

/** The device holds entry 2's message and has it unmasked; entry 3 is untouched. */
export function assertEntry2Programmed(dev: number): void {
  assert.equal(msix_entry_read(dev, 2, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET), ENTRY2.addr);
  assert.equal(msix_entry_read(dev, 2, PCI_MSIX_ENTRY_DATA_OFFSET), ENTRY2.data);
  assert.equal(msix_entry_read(dev, 2, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 0, 'unmasked in the device');
  assert.equal(msix_entry_read(dev, 3, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 1, 'other entries untouched');
}
