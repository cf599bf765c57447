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
import { SITE } from '../trace/sites.js';
import { DOMAIN, PCI_DEV, VPCI, VCPU, ERESTART } from '../xen/types.js';
import { has_vpci, vpci_free_handlers, vpci_free } from '../xen/l21/vpci.js';
import type { ModelFns } from '../xen/fn.js';
import { domain_crash, is_hardware_domain } from '../xen/domain.js';
import type { Patch } from './patch.js';
import type { PciDevPtr, VcpuPtr } from '../xen/types.js';

const rwlock = (d: number, where: string): number => chk(d, DOMAIN, where) + DOMAIN.vpci_rwlock;

function vpci_remove_device(pdev: PciDevPtr): number {
  const where = 'vpci_remove_device';
  const d = M[chk(pdev, PCI_DEV, where) + PCI_DEV.domain];
  if (!has_vpci(d, where)) return 0;
  M[d + DOMAIN.vpci_terminating] = 1;
  yield_point(SITE['vpci_remove_device:terminating']);
  const vpci = chk(M[chk(pdev, PCI_DEV, where) + PCI_DEV.vpci], VPCI, where);
  spin_lock(vpci + VPCI.lock);               // remove vPCI register handlers: cuts off COMMAND emulation
  vpci_free_handlers(vpci, where);
  spin_unlock(vpci + VPCI.lock);
  if (!write_trylock(rwlock(d, where))) return ERESTART;
  vpci_free(pdev, vpci, where);
  M[d + DOMAIN.vpci_terminating] = 0;        // the sketch never clears the per-domain flag; one device at a time here
  write_unlock(rwlock(d, where));
  return 0;
}

/** The L21 step under the domain's read lock; a failure crashes a DomU instead of removing the device. */
const vpci_process_pending = (prev: ModelFns['vpci_process_pending']) => (v: VcpuPtr): boolean => {
  const where = 'vpci_process_pending';
  if (M[chk(v, VCPU, where) + VCPU.vpci_mem] === NULL) return false;
  const d = M[v + VCPU.domain];
  read_lock(rwlock(d, where));
  const again = prev(v, () => { if (!is_hardware_domain(d)) domain_crash(d, where); });
  read_unlock(rwlock(d, where));
  return again;
};

const readLockCurrent = (d: number): void => read_lock(rwlock(d, 'vpci_mmio'));
const readUnlockCurrent = (d: number): void => read_unlock(rwlock(d, 'vpci_mmio'));

/** The MSI-X table intercept is an MMIO handler too: a reader, like config accesses. */
function msixReader<A extends unknown[], R>(prev: (v: VcpuPtr, ...a: A) => R): (v: VcpuPtr, ...a: A) => R {
  return (v, ...a) => {
    const d = M[chk(v, VCPU, 'msix') + VCPU.domain];
    readLockCurrent(d);
    const r = prev(v, ...a);
    readUnlockCurrent(d);
    return r;
  };
}

export const rwlockTrylock: Patch = {
  name: 'rwlock-trylock',
  base: 'l21',
  summary: 'seed proposal: per-domain rwlock, vpci_terminating, handlers removed first, write_trylock or -ERESTART',
  source: 'fec02ac4-1ecf-18e1-7ed6-3b1094d60890@epam.com (the seed message); §G row S3',
  replace: {
    vpci_read_enter: () => readLockCurrent,
    vpci_read_exit: () => readUnlockCurrent,
    vpci_write_enter: () => readLockCurrent,
    vpci_write_exit: () => readUnlockCurrent,
    vpci_process_pending,
    vpci_remove_device: () => vpci_remove_device,
    msix_accept: msixReader,
    msix_read: msixReader,
    msix_write: msixReader,
  },
};
