// The MSI-X helpers both generations share: vpci.h's (L21; private.h at HEAD) inline accessors that locate the table
// and PBA through the BARs, the entries[] array of struct vpci_msix, and the domain's list of MSI-X tables
// (d->arch.hvm.msix_tables) with list.h's list_add / list_del, and msix_write's entry store, the same code in both
// generations. Every pointer they follow is a checked dereference.

import { M } from '../mem/machine.js';
import { chk, chkMember, NULL } from '../mem/heap.js';
import { PCI_MSIX_BIRMASK, PCI_MSIX_ENTRY_SIZE } from '../hw/pci_regs.js';
import {
  PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET, PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET,
  PCI_MSIX_VECTOR_BITMASK,
} from '../hw/pci_regs.js';
import { DOMAIN, VPCI, VPCI_MSIX, BAR, BAR_WORDS, MSIX_ENTRY_WORDS, MSIX_ENTRY, VPCI_MSIX_TABLE, type MmioData, type PciDevPtr } from './types.js';
import { LIST_POISON1, LIST_POISON2 } from './list.js';
import { fn } from './fn.js';


const barOf = (vpci: number, msix: number, nr: number): number =>
  vpci + VPCI.bars + (M[msix + VPCI_MSIX.tables + nr] & PCI_MSIX_BIRMASK) * BAR_WORDS;

/** vpci->msix, checked. */
export const msixOf = (vpci: number, where: string): number => chk(M[chk(vpci, VPCI, where) + VPCI.msix], VPCI_MSIX, where);

/**
 * vmsix_table_base: the address of the BAR the table (nr = VPCI_MSIX_TABLE) or PBA lives in. `at` picks the BAR
 * field: the host address (L21, and HEAD's vmsix_table_host_base) or, at HEAD, the guest's (vmsix_table_base).
 */
export function vmsix_table_base(vpci: number, nr: number, where: string, at: number = BAR.addr_lo): number {
  const b = barOf(vpci, msixOf(vpci, where), nr);
  return (M[b + at + 1] >>> 0) * 2 ** 32 + (M[b + at] >>> 0);
}

export function vmsix_table_addr(vpci: number, nr: number, where: string, at: number = BAR.addr_lo): number {
  return vmsix_table_base(vpci, nr, where, at) + ((M[msixOf(vpci, where) + VPCI_MSIX.tables + nr] & ~PCI_MSIX_BIRMASK) >>> 0);
}

/** Bytes: max_entries * 16 for the table; the PBA rounded up to whole qwords. */
export function vmsix_table_size(vpci: number, nr: number, where: string): number {
  const n = M[msixOf(vpci, where) + VPCI_MSIX.max_entries];
  return nr === VPCI_MSIX_TABLE ? n * PCI_MSIX_ENTRY_SIZE : Math.ceil(Math.ceil(n / 8) / 8) * 8;
}

/** HEAD's vmsix_table_bar_valid: the BAR holding the table or PBA is mapped into the guest p2m. */
export function vmsix_table_bar_valid(vpci: number, nr: number, where: string): boolean {
  return M[barOf(vpci, msixOf(vpci, where), nr) + BAR.enabled] !== 0;
}

/** VMSIX_ADDR_IN_RANGE(addr, vpci, nr). */
export function VMSIX_ADDR_IN_RANGE(addr: number, vpci: number, nr: number, where: string, at: number = BAR.addr_lo): boolean {
  const a = vmsix_table_addr(vpci, nr, where, at);
  return addr >= a && addr < a + vmsix_table_size(vpci, nr, where);
}

/** HEAD's VMSIX_ADDR_SAME_PAGE(addr, vpci, nr): addr is on a page the table or PBA touches. */
export function VMSIX_ADDR_SAME_PAGE(addr: number, vpci: number, nr: number, where: string, at: number = BAR.addr_lo): boolean {
  const a = vmsix_table_addr(vpci, nr, where, at), pfn = Math.floor(addr / 4096);
  return pfn >= Math.floor(a / 4096) && pfn <= Math.floor((a + vmsix_table_size(vpci, nr, where) - 1) / 4096);
}

/** &msix->entries[nr]: a word address inside the vpci_msix block. */
export const msix_entry = (msix: number, nr: number): number => msix + VPCI_MSIX.words + nr * MSIX_ENTRY_WORDS;
/** vmsix_entry_nr(msix, entry). */
export const vmsix_entry_nr = (msix: number, entry: number): number => (entry - msix - VPCI_MSIX.words) / MSIX_ENTRY_WORDS;
/** Words of a vpci_msix with n entries (xzalloc_flex_struct). */
export const msix_words = (n: number): number => VPCI_MSIX.words + n * MSIX_ENTRY_WORDS;

/** list_add(&msix->next, &d->arch.hvm.msix_tables): at the head. */
export function msix_list_add(d: number, msix: number, where: string): void {
  const head = chk(d, DOMAIN, where) + DOMAIN.msix_tables;
  const first = M[head];
  M[msix + VPCI_MSIX.next] = first;
  M[msix + VPCI_MSIX.prev] = NULL;
  if (first !== NULL) M[chk(first, VPCI_MSIX, where) + VPCI_MSIX.prev] = msix;
  M[head] = msix;
}

/** list_del(&msix->next): unlink, then poison the links. */
export function msix_list_del(d: number, msix: number, where: string): void {
  const next = M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.next], prev = M[msix + VPCI_MSIX.prev];
  if (next !== NULL) M[chk(next, VPCI_MSIX, where) + VPCI_MSIX.prev] = prev;
  if (prev !== NULL) M[chk(prev, VPCI_MSIX, where) + VPCI_MSIX.next] = next;
  else M[chk(d, DOMAIN, where) + DOMAIN.msix_tables] = next;
  M[msix + VPCI_MSIX.next] = LIST_POISON1;
  M[msix + VPCI_MSIX.prev] = LIST_POISON2;
}

/** The vector-control part of msix_write (L21 and HEAD msix.c alike): mask or unmask, re-programming an updated entry. */
function write_vector_ctrl(msix: number, entry: number, ctrl: number): void {
  const where = 'msix_write';
  const new_masked = (ctrl & PCI_MSIX_VECTOR_BITMASK) !== 0;
  const pdev = M[chk(msix, VPCI_MSIX, where) + VPCI_MSIX.pdev] as PciDevPtr;
  chkMember(entry, MSIX_ENTRY_WORDS, where, 'write');
  if ((M[entry + MSIX_ENTRY.masked] !== 0) === new_masked) return;
  M[entry + MSIX_ENTRY.masked] = new_masked ? 1 : 0;   // before arch enable, so that it picks the new state
  if (!new_masked && M[msix + VPCI_MSIX.enabled] && !M[msix + VPCI_MSIX.masked] && M[entry + MSIX_ENTRY.updated]) {
    fn.update_entry(entry, pdev, vmsix_entry_nr(msix, entry));
  } else {
    fn.vpci_msix_arch_mask_entry(entry, pdev, new_masked);
  }
}

/**
 * The entry write of msix_write, the same in both generations (HEAD msix.c:514-577): address and data written with
 * the entry unmasked are stored, effective at the next mask/unmask. Caller holds vpci->lock.
 */
export function msix_entry_store(msix: number, entry: number, addr: number, len: number, data: MmioData): void {
  chkMember(entry, MSIX_ENTRY_WORDS, 'msix_write', 'write');
  switch (addr & (PCI_MSIX_ENTRY_SIZE - 1)) {
    case PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET:
      M[entry + MSIX_ENTRY.updated] = 1;
      M[entry + MSIX_ENTRY.addr_lo] = data.lo;
      if (len === 8) M[entry + MSIX_ENTRY.addr_hi] = data.hi;
      break;
    case PCI_MSIX_ENTRY_UPPER_ADDR_OFFSET:
      M[entry + MSIX_ENTRY.updated] = 1;
      M[entry + MSIX_ENTRY.addr_hi] = data.lo;
      break;
    case PCI_MSIX_ENTRY_DATA_OFFSET:
      M[entry + MSIX_ENTRY.updated] = 1;
      M[entry + MSIX_ENTRY.data] = data.lo;
      if (len === 8) write_vector_ctrl(msix, entry, data.hi);
      break;
    case PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET:
      write_vector_ctrl(msix, entry, data.lo);
      break;
  }
}
