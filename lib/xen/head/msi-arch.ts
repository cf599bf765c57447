// MSI's x86 arch hooks at HEAD (xen/arch/x86/hvm/vmsi.c:817-979 at c447b7308b) and asm/msi.h's register helpers.
// As for MSI-X (lib/xen/vmsi.ts), a bound PIRQ is state the model keeps (msi->arch.pirq, msi->arch.bound) plus
// the device programmed with the guest's message: pt_irq_create_bind, the event lock and the IRQ descriptors are not
// modelled. What is kept exactly is the checks: enable, update and disable ASSERT_PDEV_LIST_IS_READ_LOCKED(
// pdev->domain) (vmsi.c:840, 881, 933, 951) — pcidevs_lock or the *owner's* d->pci_lock — so a caller holding
// another domain's lock (hwdom's, for a dom_xen device: vpci.c:488-490) trips them.

import { M } from '../../mem/machine.js';
import { chk } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { pci_conf_read16, pci_conf_read32, pci_conf_write16, pci_conf_write32 } from '../../hw/index.js';
import {
  PCI_CAP_ID_MSI, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT, PCI_MSI_ADDRESS_LO,
} from '../../hw/pci_regs.js';
import { PCI_DEV, VPCI_MSI, INVALID_PIRQ, EOPNOTSUPP } from '../types.js';
import { pci_find_cap_offset } from '../pci.js';
import { PIRQ_BASE } from '../vmsi.js';
import { ASSERT_PDEV_LIST_IS_READ_LOCKED } from './vmsi.js';
import type { PciDevPtr } from '../types.js';

// ---- asm/msi.h
export const msi_control_reg = (pos: number): number => pos + PCI_MSI_FLAGS;
export const msi_lower_address_reg = (pos: number): number => pos + PCI_MSI_ADDRESS_LO;
export const msi_upper_address_reg = (pos: number): number => pos + 8;
export const msi_data_reg = (pos: number, is64: boolean): number => pos + (is64 ? 12 : 8);
export const msi_mask_bits_reg = (pos: number, is64: boolean): number => pos + (is64 ? 16 : 12);
export const msi_pending_bits_reg = (pos: number, is64: boolean): number => pos + (is64 ? 20 : 16);
export const is_64bit_address = (control: number): boolean => (control & PCI_MSI_FLAGS_64BIT) !== 0;
export const is_mask_bit_support = (control: number): boolean => (control & PCI_MSI_FLAGS_MASKBIT) !== 0;

/** The model's PIRQs for MSI: past MSI-X's (PIRQ_BASE + entry, at most 64 entries), one per vector. */
export const MSI_PIRQ_BASE = PIRQ_BASE + 64;
const MSI_ADDR_BASE_MASK = 0xfff00000, MSI_ADDR_HEADER = 0xfee00000;

const sbdfOf = (pdev: number, where: string): number => M[chk(pdev, PCI_DEV, where) + PCI_DEV.sbdf];
/** pdev->msi_pos (passthrough/msi.c: set when the pdev is allocated). */
export const msi_pos = (pdev: number, where: string): number => pci_find_cap_offset(sbdfOf(pdev, where), PCI_CAP_ID_MSI);
const list_locked = (pdev: number, where: string): void =>
  ASSERT_PDEV_LIST_IS_READ_LOCKED(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where);

/** vpci_mask_pirq (vmsi.c:817-826) for an MSI PIRQ: guest_mask_msi_irq sets the vector's bit in the mask register. */
function vpci_mask_pirq(pdev: number, pirq: number, mask: boolean): void {
  const sbdf = sbdfOf(pdev, 'vpci_mask_pirq'), pos = msi_pos(pdev, 'vpci_mask_pirq');
  const control = pci_conf_read16(sbdf, msi_control_reg(pos));
  if (!is_mask_bit_support(control)) return;        // msi_set_mask_bit: nothing to set without per-vector masking
  const reg = msi_mask_bits_reg(pos, is_64bit_address(control)), bit = 1 << (pirq - MSI_PIRQ_BASE);
  const cur = pci_conf_read32(sbdf, reg);
  pci_conf_write32(sbdf, reg, mask ? cur | bit : cur & ~bit);
}

/** vpci_msi_update (vmsi.c:834-873): a non-MSI address is refused; binding programs the device with the message. */
function vpci_msi_update(pdev: number, msi: number, vectors: number, pirq: number): number {
  const where = 'vpci_msi_update';
  list_locked(pdev, where);
  // MSI_ADDR_BASE_MASK is ~0xfffff as an int: sign-extended, it also requires the upper half to be 0.
  if (M[msi + VPCI_MSI.address_hi] !== 0 || (M[msi + VPCI_MSI.address_lo] & MSI_ADDR_BASE_MASK) >>> 0 !== MSI_ADDR_HEADER) return EOPNOTSUPP;
  const sbdf = sbdfOf(pdev, where), pos = msi_pos(pdev, where);
  const is64 = is_64bit_address(pci_conf_read16(sbdf, msi_control_reg(pos)));
  pci_conf_write32(sbdf, msi_lower_address_reg(pos), M[msi + VPCI_MSI.address_lo]);
  if (is64) pci_conf_write32(sbdf, msi_upper_address_reg(pos), M[msi + VPCI_MSI.address_hi]);
  pci_conf_write16(sbdf, msi_data_reg(pos, is64), M[msi + VPCI_MSI.data]);
  for (let i = 0; i < vectors; i++) vpci_mask_pirq(pdev, pirq + i, ((M[msi + VPCI_MSI.mask] >>> i) & 1) !== 0);
  return 0;
}

/** vpci_msi_arch_mask (vmsi.c:828-832). */
export function vpci_msi_arch_mask(msi: number, pdev: PciDevPtr, entry: number, mask: boolean): void {
  vpci_mask_pirq(pdev, M[chk(msi, VPCI_MSI, 'vpci_msi_arch_mask') + VPCI_MSI.arch_pirq] + entry, mask);
}

/** vpci_msi_arch_update (vmsi.c:875-901): unbind every vector, bind again with the new message. */
export function vpci_msi_arch_update(msi: number, pdev: PciDevPtr): void {
  const where = 'vpci_msi_arch_update';
  ASSERT(() => M[chk(msi, VPCI_MSI, where) + VPCI_MSI.arch_pirq] !== INVALID_PIRQ, where, 'msi->arch.pirq != INVALID_PIRQ');
  list_locked(pdev, where);
  // pt_irq_destroy_bind of each bound vector cannot fail in the model (vmsi.c:890-896 crash the domain if it did).
  M[msi + VPCI_MSI.arch_bound] = vpci_msi_update(pdev, msi, M[msi + VPCI_MSI.vectors], M[msi + VPCI_MSI.arch_pirq]) ? 0 : 1;
}

/** vpci_msi_enable (vmsi.c:903-925): allocate_and_map_msi_pirq, which cannot fail in the model. */
const vpci_msi_enable = (): number => MSI_PIRQ_BASE;

/** vpci_msi_arch_enable (vmsi.c:927-943). */
export function vpci_msi_arch_enable(msi: number, pdev: PciDevPtr, vectors: number): number {
  const where = 'vpci_msi_arch_enable';
  ASSERT(() => M[chk(msi, VPCI_MSI, where) + VPCI_MSI.arch_pirq] === INVALID_PIRQ, where, 'msi->arch.pirq == INVALID_PIRQ');
  list_locked(pdev, where);
  M[msi + VPCI_MSI.arch_pirq] = vpci_msi_enable();
  M[msi + VPCI_MSI.arch_bound] = vpci_msi_update(pdev, msi, vectors, M[msi + VPCI_MSI.arch_pirq]) ? 0 : 1;
  return 0;
}

/** vpci_msi_disable (vmsi.c:945-968): unbind, then unmap_domain_pirq, whose pci_disable_msi clears the enable bit. */
function vpci_msi_disable(pdev: number, pirq: number): void {
  const where = 'vpci_msi_disable';
  ASSERT(pirq !== INVALID_PIRQ, where, 'pirq != INVALID_PIRQ');
  list_locked(pdev, where);
  const sbdf = sbdfOf(pdev, where), ctrl = msi_control_reg(msi_pos(pdev, where));
  pci_conf_write16(sbdf, ctrl, pci_conf_read16(sbdf, ctrl) & ~PCI_MSI_FLAGS_ENABLE);
}

/** vpci_msi_arch_disable (vmsi.c:970-974). */
export function vpci_msi_arch_disable(msi: number, pdev: PciDevPtr): void {
  vpci_msi_disable(pdev, M[chk(msi, VPCI_MSI, 'vpci_msi_arch_disable') + VPCI_MSI.arch_pirq]);
  M[msi + VPCI_MSI.arch_pirq] = INVALID_PIRQ;
}

/** vpci_msi_arch_init (vmsi.c:976-979): no PIRQ bound yet. */
export function vpci_msi_arch_init(msi: number): void {
  M[chk(msi, VPCI_MSI, 'vpci_msi_arch_init') + VPCI_MSI.arch_pirq] = INVALID_PIRQ;
}
