// A fix the lab proposes for HEAD's stale v->vpci.pdev (model document §C.3, scenario stale-pdev), in the spirit
// of Jan's "drain, don't cancel" (B.3). Three parts, each needed (issue 15 point 1):
//  1. the pending step loads v->vpci.pdev only once it holds v->domain->pci_lock for reading (HEAD loads it
//     before, header.c:179 vs 186, so a vCPU waiting for the lock holds a copy nobody can drain);
//  2. pci_remove_device empties every slot that names the pdev before free_pdev frees it;
//  3. it does so for the vCPUs of every domain, each under that domain's pci_lock held for writing: defer_map
//     stores into `current` (header.c:297), which need not be a vCPU of the owner (a control domain's toolstack
//     vCPU running vpci_assign_device), and only that vCPU's own domain's lock keeps it out of its pending step.
//  4. free_pdev runs with hwdom->pci_lock held for writing: the hardware domain's lookups walk alldevs_list (and
//     may return a pdev already off hwdom's list, its pdev->domain still hwdom) under only that lock
//     (pci.c:548-575, vpci.c:495-500), while free_pdev unlinks and frees under pcidevs_lock alone (pci.c:460-466).
// Not covered: the defer_map FIXME (a second modify_bars while the first is pending, ASSERT at header.c:357) and
// a reset's vpci_assign_device under a slot still naming the device.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { read_lock, read_unlock, write_lock, write_unlock } from '../sync/rwlock.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { DOMAIN, VCPU } from '../xen/types.js';
import { nr_domains, domain_by_index } from '../xen/domain.js';
import { hardware_domain } from '../xen/state.js';
import { process_pending_locked } from '../xen/head/header.js';
import type { ModelFns } from '../xen/fn.js';
import type { Patch } from './patch.js';
import type { VcpuPtr, PciDevPtr, DomainPtr } from '../xen/types.js';

/** Part 1: header.c:179 moved below 186. */
function vpci_process_pending(v: VcpuPtr): boolean {
  const d = M[chk(v, VCPU, 'vpci_process_pending') + VCPU.domain] as DomainPtr;
  if (M[v + VCPU.vpci_pdev] === NULL) return false;     // an unlocked peek only decides whether to lock
  read_lock(chk(d, DOMAIN, 'vpci_process_pending') + DOMAIN.pci_lock);
  const pdev = M[v + VCPU.vpci_pdev] as PciDevPtr;
  if (pdev === NULL) { read_unlock(d + DOMAIN.pci_lock); return false; }   // drained while we waited
  return process_pending_locked(v, pdev, d);
}

function drain_domain(d: number, pdev: number, where: string): void {
  for (let j = 0; j < M[chk(d, DOMAIN, where) + DOMAIN.max_vcpus]; j++) {
    const v = M[d + DOMAIN.vcpu + j];
    yield_point(SITE.vpci_cancel_pending);
    if (M[chk(v, VCPU, where) + VCPU.vpci_pdev] === pdev) M[v + VCPU.vpci_pdev] = NULL;
  }
}

/** Parts 2-4: every domain's vCPUs under that domain's write lock (one at a time), hwdom's last and across the free. */
const free_pdev = (prev: ModelFns['free_pdev']) => (pdev: PciDevPtr): void => {
  const where = 'vpci_drain_pending';
  const hwdom = hardware_domain();
  for (let i = 0; i < nr_domains(); i++) {
    const d = domain_by_index(i);
    if (d === hwdom) continue;
    write_lock(chk(d, DOMAIN, where) + DOMAIN.pci_lock);
    drain_domain(d, pdev, where);
    write_unlock(d + DOMAIN.pci_lock);
  }
  write_lock(chk(hwdom, DOMAIN, where) + DOMAIN.pci_lock);
  drain_domain(hwdom, pdev, where);
  prev(pdev);
  write_unlock(hwdom + DOMAIN.pci_lock);
};

export const upstreamDrain: Patch = {
  name: 'upstream-drain',
  base: 'upstream',
  summary: 'lab proposal on HEAD: pending work loads its slot under the lock; removal drains every domain\'s slots and frees under hwdom\'s lock',
  source: 'this lab; xen-vpci-model.md C.3 (derived weakness), B.3 (draining); issue 15 point 1',
  replace: { vpci_process_pending: () => vpci_process_pending, free_pdev },
};
