// S4, [PATCH v5 04/14] (20211125110251.2877218-5-andr2000@gmail.com) on the v5 per-device lock: the spinlock moves
// out of struct vpci into struct pci_dev (pdev->vpci_lock), so it survives xfree(vpci); removal cancels pending
// work on every vCPU of the owning domain; vpci_process_pending holds the device lock for the whole step.
// Derived choices where the series was not explicit: "cancelled" is tested as pdev->vpci == NULL (Roger's review
// asked for exactly that instead of the flag), and cancelling clears v->vpci.pdev with v->vpci.mem.
// modify_bars takes each other device's vpci_lock to read its BARs: the ABBA of the v6 discussion (§B.6).

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { ASSERT } from '../mem/crash.js';
import { spin_lock, spin_unlock, spin_is_locked } from '../sync/spinlock.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { PCI_COMMAND_MEMORY } from '../hw/pci_regs.js';
import { PCI_DEV, VPCI, VCPU, ERESTART } from '../xen/types.js';
import { XEN, xen } from '../xen/state.js';
import { has_vpci, vpci_free_handlers, vpci_free } from '../xen/l21/vpci.js';
import { fn } from '../xen/fn.js';
import { rangeset_consume_ranges } from '../xen/rangeset.js';
import { domain_crash, is_hardware_domain } from '../xen/domain.js';
import { cancel_slot, cancel_domain_slots } from './slots.js';
import type { Patch } from './patch.js';
import type { PciDevPtr, VcpuPtr, DomainPtr } from '../xen/types.js';

const pdevLock = (pdev: number, where: string): number => chk(pdev, PCI_DEV, where) + PCI_DEV.vpci_lock;

/** vpci_cancel_pending_locked: every vCPU of pdev->domain whose slot targets pdev. */
function vpci_cancel_pending_locked(pdev: number): void {
  const where = 'vpci_cancel_pending';
  ASSERT(() => spin_is_locked(pdevLock(pdev, where)), where, 'spin_is_locked(&pdev->vpci_lock)');
  // Roger: another vCPU's v->vpci is read here without any lock that protects it.
  cancel_domain_slots(M[pdev + PCI_DEV.domain], pdev, where);
}

function vpci_remove_device_locked(pdev: number): void {
  const where = 'vpci_remove_device_locked';
  ASSERT(() => spin_is_locked(pdevLock(pdev, where)), where, 'spin_is_locked(&pdev->vpci_lock)');
  const vpci = M[pdev + PCI_DEV.vpci];
  if (vpci === NULL) return;
  vpci_free_handlers(chk(vpci, VPCI, where), where);
  vpci_cancel_pending_locked(pdev);
  yield_point(SITE['vpci_remove_device:before-free']);
  vpci_free(pdev, vpci, where);
}

function vpci_remove_device(pdev: PciDevPtr): number {
  const where = 'vpci_remove_device';
  if (!has_vpci(M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain], where)) return 0;
  spin_lock(pdevLock(pdev, where));
  vpci_remove_device_locked(pdev);
  spin_unlock(pdevLock(pdev, where));
  return 0;
}

function vpci_process_pending(v: VcpuPtr): boolean {
  const where = 'vpci_process_pending';
  const pdev = M[chk(v, VCPU, where) + VCPU.vpci_pdev] as PciDevPtr;
  if (pdev === NULL || M[v + VCPU.vpci_mem] === NULL) return false;
  const lock = pdevLock(pdev, where);        // a freed pdev: use-after-free here
  spin_lock(lock);
  if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] !== NULL && M[v + VCPU.vpci_mem] !== NULL) {
    const d = M[v + VCPU.domain] as DomainPtr;
    const map = (M[v + VCPU.vpci_cmd] & PCI_COMMAND_MEMORY) !== 0;
    const rc = rangeset_consume_ranges(M[v + VCPU.vpci_mem], (s, e, c) => fn.map_range(d, map, s, e, c));
    if (rc === ERESTART) { spin_unlock(lock); return true; }
    yield_point(SITE['vpci_process_pending:after-consume']);
    const cmd = M[v + VCPU.vpci_cmd];
    if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] !== NULL) fn.modify_decoding(pdev, rc ? cmd & ~PCI_COMMAND_MEMORY : cmd, !rc && M[v + VCPU.vpci_rom_only] !== 0);
    cancel_slot(v, where);
    Atomics.add(M, xen(XEN.pending_done), 1);
    if (rc) {
      yield_point(SITE['vpci_process_pending:failed']);
      if (is_hardware_domain(d)) vpci_remove_device_locked(pdev); else domain_crash(d, where);
    }
  }
  spin_unlock(lock);
  return false;
}

export const cancelAll: Patch = {
  name: 'cancel-all',
  base: 'l21',
  summary: 'v5 04/14: per-device lock outside struct vpci; removal cancels pending work on every vCPU of the domain',
  source: '20211125110251.2877218-5-andr2000@gmail.com; review Yd23B3KkQBpTAK1v@Air-de-Roger; §G row S4',
  replace: {
    vpci_lock: () => (pdev, where) => {
      const lock = pdevLock(pdev, where);
      spin_lock(lock);
      if (M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci] === NULL) { spin_unlock(lock); return 0; }
      return lock;
    },
    modify_bars_get: () => (_pdev, tmp) => {
      const lock = pdevLock(tmp, 'modify_bars');
      spin_lock(lock);                        // pdev's own lock is held: two devices, opposite orders → ABBA
      if (M[chk(tmp, PCI_DEV, 'modify_bars') + PCI_DEV.vpci] !== NULL) return true;
      spin_unlock(lock);
      return false;
    },
    modify_bars_put: () => (_pdev, tmp) => spin_unlock(pdevLock(tmp, 'modify_bars')),
    vpci_process_pending: () => vpci_process_pending,
    vpci_remove_device: () => vpci_remove_device,
  },
};
