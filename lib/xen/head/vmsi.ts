// The x86 arch hooks MSI-X emulation calls, at HEAD (xen/arch/x86/hvm/vmsi.c:994-1041 at c447b7308b), reduced to
// the state they keep as at L21 (lib/xen/vmsi.ts). What changed is the lock: since 4f78438b45 they take no
// pcidevs_lock and instead ASSERT_PDEV_LIST_IS_READ_LOCKED(pdev->domain) (vmsi.c:840, 951, 1007): the caller holds
// d->pci_lock (msix_write for reading, vpci_write's control_write for writing), taken before vpci->lock, so the
// L21 inversion against pci_remove_device (pcidevs_lock, then vpci->lock) is gone.

import { M } from '../../mem/machine.js';
import { chk, NULL } from '../../mem/heap.js';
import { ASSERT } from '../../mem/crash.js';
import { spin_is_locked } from '../../sync/spinlock.js';
import { rw_is_locked } from '../../sync/rwlock.js';
import { DOMAIN, PCI_DEV } from '../types.js';
import { pcidevs_lock_addr } from '../state.js';
import { msixArchHooks, vpci_msix_arch_mask_entry } from '../vmsi.js';

/** pcidevs_locked() (pci.c): this CPU holds the recursive pcidevs_lock. */
export const pcidevs_locked = (): boolean => spin_is_locked(pcidevs_lock_addr());

/** ASSERT_PDEV_LIST_IS_READ_LOCKED(d) (xen/include/xen/pci.h:213-215): pcidevs_lock, or d->pci_lock held by anyone. */
export function ASSERT_PDEV_LIST_IS_READ_LOCKED(d: number, where: string): void {
  ASSERT(() => pcidevs_locked() || (d !== NULL && rw_is_locked(chk(d, DOMAIN, where) + DOMAIN.pci_lock)), where,
    'pcidevs_locked() || rw_is_locked(&d->pci_lock)');
}

/** Named for the function whose ASSERT it is: vpci_msix_arch_enable_entry (vmsi.c:1007), vpci_msi_disable (951). */
const pdev_list_read_locked = (pdev: number, where: string): void =>
  ASSERT_PDEV_LIST_IS_READ_LOCKED(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where);

const headHooks = msixArchHooks(false, pdev_list_read_locked);
/** vmsi.c:1001-1024. */
export const vpci_msix_arch_enable_entry = headHooks.enable;
/** vmsi.c:1026-1036. */
export const vpci_msix_arch_disable_entry = headHooks.disable;
/** vmsi.c:994-999: unchanged since L21. */
export { vpci_msix_arch_mask_entry };
