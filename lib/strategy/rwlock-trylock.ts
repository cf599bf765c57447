// S3, the seed's proposal (fec02ac4-1ecf-18e1-7ed6-3b1094d60890@epam.com, 19 Nov 2021): a per-domain
// d->vpci_rwlock, readers = vpci_process_pending and the MMIO handlers, writer = vpci_remove_device, which sets
// d->vpci_terminating, removes the register handlers first, then write_trylock or -ERESTART (PHYSDEVOP remove gains
// a hypercall continuation). vpci_process_pending no longer removes the device; a DomU is crashed on failure.
// Taken literally: nothing in the sketch rechecks pdev->vpci, and the lock does not cover pdev's own lifetime.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { spin_lock, spin_unlock } from '../sync/spinlock.js';
import { read_lock, read_unlock, write_trylock, write_unlock } from '../sync/rwlock.js';
import { yield_point } from '../sched/mode.js';
import { S } from '../trace/sites.js';
import { PCI_COMMAND_MEMORY } from '../hw/pci_regs.js';
import { DOMAIN, PCI_DEV, VPCI, VCPU, ERESTART } from '../xen/types.js';
import { XEN, xen } from '../xen/state.js';
import { has_vpci, vpci_free_handlers, vpci_free } from '../xen/vpci.js';
import { modify_decoding, map_range } from '../xen/header.js';
import { rangeset_destroy, rangeset_consume_ranges } from '../xen/rangeset.js';
import { domain_crash, is_hardware_domain } from '../xen/domain.js';
import { baselineOps } from './baseline.js';
import type { Strategy } from './types.js';

const rwlock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.vpci_rwlock;

function vpci_remove_device(pdev: number): number {
  const where = 'vpci_remove_device';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  if (!has_vpci(d, where)) return 0;
  M[d + DOMAIN.vpci_terminating] = 1;
  yield_point(S['vpci_remove_device:terminating']);
  const vpci = chk(M[pdev + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);               // remove vPCI register handlers: cuts off COMMAND emulation
  vpci_free_handlers(vpci, where);
  spin_unlock(vpci + VPCI.lock);
  if (!write_trylock(rwlock(d, where))) return ERESTART;
  vpci_free(pdev, vpci, where);
  M[d + DOMAIN.vpci_terminating] = 0;        // the sketch never clears the per-domain flag; one device at a time here
  write_unlock(rwlock(d, where));
  return 0;
}

function vpci_process_pending(v: number): boolean {
  const where = 'vpci_process_pending';
  if (M[chk(v, VCPU, where) + VCPU.vpci_mem] === NULL) return false;
  const d = M[v + VCPU.domain];
  read_lock(rwlock(d, where));
  const map = (M[v + VCPU.vpci_cmd] & PCI_COMMAND_MEMORY) !== 0;
  const rc = rangeset_consume_ranges(M[v + VCPU.vpci_mem], (s, e, c) => map_range(d, map, s, e, c));
  if (rc === ERESTART) { read_unlock(rwlock(d, where)); return true; }
  yield_point(S['vpci_process_pending:after-consume']);
  const pdev = M[v + VCPU.vpci_pdev];
  const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);
  const cmd = M[v + VCPU.vpci_cmd];
  modify_decoding(pdev, rc ? cmd & ~PCI_COMMAND_MEMORY : cmd, !rc && M[v + VCPU.vpci_rom_only] !== 0);
  spin_unlock(vpci + VPCI.lock);
  rangeset_destroy(M[v + VCPU.vpci_mem], where);
  M[v + VCPU.vpci_mem] = NULL;
  Atomics.add(M, xen(XEN.pending_done), 1);
  read_unlock(rwlock(d, where));
  if (rc && !is_hardware_domain(d)) domain_crash(d, where); // no vpci_remove_device from here any more
  return false;
}

const readLockCurrent = (d: number): void => read_lock(rwlock(d, 'vpci_mmio'));
const readUnlockCurrent = (d: number): void => read_unlock(rwlock(d, 'vpci_mmio'));

export const rwlockTrylock: Strategy = {
  name: 'rwlock-trylock',
  summary: 'seed proposal: per-domain rwlock, vpci_terminating, handlers removed first, write_trylock or -ERESTART',
  source: 'fec02ac4-1ecf-18e1-7ed6-3b1094d60890@epam.com (the seed message); §G row S3',
  ops: {
    ...baselineOps,
    name: 'rwlock-trylock',
    vpci_read_enter: readLockCurrent,
    vpci_read_exit: readUnlockCurrent,
    vpci_write_enter: readLockCurrent,
    vpci_write_exit: readUnlockCurrent,
    vpci_process_pending,
    vpci_remove_device,
  },
};
