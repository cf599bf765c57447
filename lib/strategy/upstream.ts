// S6, what Xen merged: d->pci_lock (8862c7b8b6, 4f78438b45, 622bdd9628). Read mode for vpci_read and pending work,
// write mode for vpci_write (modify_bars looks at several devices) and for add/remove/assign; pending work
// rechecks pdev->vpci and the owner under the read lock (an implicit cancel); a failed map crashes a DomU and no
// longer removes the device. Lock order: pcidevs_lock -> d->pci_lock -> vpci->lock. MSI-X: the table intercept
// holds d->pci_lock for reading, removal unlinks the table first (c14aea137e) and the arch hooks no longer take
// pcidevs_lock (4f78438b45). The L21 pending slot (with
// its rangeset) is kept; HEAD's per-BAR rangesets are not modelled.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { spin_lock, spin_unlock } from '../sync/spinlock.js';
import { read_lock, read_unlock, write_lock, write_unlock } from '../sync/rwlock.js';
import { yield_point } from '../sched/mode.js';
import { S } from '../trace/sites.js';
import { PCI_COMMAND_MEMORY } from '../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, VPCI, VCPU, ERESTART } from '../xen/types.js';
import { XEN, xen } from '../xen/state.js';
import { fn, type ModelFns } from '../xen/fn.js';
import { rangeset_consume_ranges } from '../xen/rangeset.js';
import { domain_crash, is_hardware_domain } from '../xen/domain.js';
import { pci_get_pdev_in_domain } from '../xen/pci.js';
import { cancel_slot } from './slots.js';
import { msix_list_del } from '../xen/vmsix.js';
import { msixArchHooks } from '../xen/l21/vmsi.js';
import type { Patch } from './patch.js';

const pciLock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.pci_lock;

/** `!pdev->vpci` after locking: the access goes to hardware (6ccb5e308c). */
export function lock_pdev_vpci_if_present(pdev: number, where: string): number {
  const vpci = M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci];
  if (vpci === NULL) return 0;
  spin_lock(chk(vpci, VPCI, where) + VPCI.lock);
  return vpci + VPCI.lock;
}

function vpci_process_pending(v: number): boolean {
  const where = 'vpci_process_pending';
  if (M[chk(v, VCPU, where) + VCPU.vpci_mem] === NULL) return false;
  const d = M[v + VCPU.domain];
  read_lock(pciLock(d, where));
  // Only v writes its slot here, so reading it under the lock is HEAD's order too; a draining removal (see
  // upstream-drain) may have emptied it while we waited.
  if (M[v + VCPU.vpci_mem] === NULL) { read_unlock(pciLock(d, where)); return false; }
  const pdev = M[v + VCPU.vpci_pdev];
  // The device lost its vPCI state or moved: drop the work (pdev itself is read through a raw pointer).
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] === NULL || M[pdev + PCI_DEV.domain] !== d) {
    cancel_slot(v, where);
    read_unlock(pciLock(d, where));
    return false;
  }
  const cmd = M[v + VCPU.vpci_cmd];
  const rc = rangeset_consume_ranges(M[v + VCPU.vpci_mem], (s, e, c) => fn.map_range(d, (cmd & PCI_COMMAND_MEMORY) !== 0, s, e, c));
  if (rc === ERESTART) { read_unlock(pciLock(d, where)); return true; }
  yield_point(S['vpci_process_pending:after-consume']);
  const vpci = chk(M[pdev + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);
  fn.modify_decoding(pdev, rc ? cmd & ~PCI_COMMAND_MEMORY : cmd, !rc && M[v + VCPU.vpci_rom_only] !== 0);
  spin_unlock(vpci + VPCI.lock);
  cancel_slot(v, where);
  Atomics.add(M, xen(XEN.pending_done), 1);
  read_unlock(pciLock(d, where));
  if (rc && !is_hardware_domain(d)) domain_crash(d, where);
  return false;
}

/**
 * Callers hold d->pci_lock in write mode; tolerate a device whose vPCI state is already gone (6ccb5e308c); take
 * the MSI-X table off the domain's list before it is freed (c14aea137e).
 */
const vpci_remove_device = (prev: ModelFns['vpci_remove_device']) => (pdev: number): number => {
  const vpci = M[chk(pdev, PCI_DEV, 'vpci_remove_device') + PCI_DEV.vpci];
  if (vpci === NULL) return 0;
  const msix = M[chk(vpci, VPCI, 'vpci_remove_device') + VPCI.msix];
  if (msix !== NULL) msix_list_del(M[pdev + PCI_DEV.domain], msix, 'vpci_remove_device');
  return prev(pdev);
};

/** The MSI-X intercept under v->domain->pci_lock for reading, whole (msix_accept, msix_read, msix_write at HEAD). */
function readLocked<A extends unknown[], R>(prev: (v: number, ...a: A) => R): (v: number, ...a: A) => R {
  return (v, ...a) => {
    const lock = pciLock(M[chk(v, VCPU, 'msix') + VCPU.domain], 'msix');
    read_lock(lock);
    const r = prev(v, ...a);
    read_unlock(lock);
    return r;
  };
}
const unlockedArch = msixArchHooks(false);

export const upstream: Patch = {
  name: 'upstream',
  base: 'l21',
  summary: 'merged Xen: d->pci_lock read for reads and pending work, write for writes and removal; pending work rechecks',
  source: '8862c7b8b6, 4f78438b45, 622bdd9628; §C; §G row S6',
  replace: {
    vpci_read_enter: () => (d) => read_lock(pciLock(d, 'vpci_read')),
    vpci_read_exit: () => (d) => read_unlock(pciLock(d, 'vpci_read')),
    vpci_write_enter: () => (d) => write_lock(pciLock(d, 'vpci_write')),
    vpci_write_exit: () => (d) => write_unlock(pciLock(d, 'vpci_write')),
    pci_get_pdev: () => pci_get_pdev_in_domain,     // d->pci_lock covers d->pdev_list, not alldevs_list
    vpci_lock: () => lock_pdev_vpci_if_present,
    modify_bars_get: () => (_pdev, tmp) => M[chk(tmp, PCI_DEV, 'modify_bars') + PCI_DEV.vpci] !== NULL,
    pdev_list_write_enter: () => (d) => write_lock(pciLock(d, 'pci.c')),
    pdev_list_write_exit: () => (d) => write_unlock(pciLock(d, 'pci.c')),
    vpci_process_pending: () => vpci_process_pending,
    vpci_remove_device,
    msix_accept: readLocked,
    msix_read: readLocked,
    msix_write: readLocked,
    vpci_msix_arch_enable_entry: () => unlockedArch.enable,
    vpci_msix_arch_disable_entry: () => unlockedArch.disable,
  },
};
