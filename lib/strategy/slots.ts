// Dropping a vCPU's pending map/unmap work: what every cancelling or rechecking strategy does to a slot.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { DOMAIN, VCPU } from '../xen/types.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { rangeset_destroy } from '../xen/rangeset.js';

/** True if v's slot holds work for pdev. */
export function slot_targets(v: number, pdev: number, where: string): boolean {
  return M[chk(v, VCPU, where) + VCPU.vpci_mem] !== NULL && M[v + VCPU.vpci_pdev] === pdev;
}

/** rangeset_destroy(v->vpci.mem); v->vpci.mem = NULL; v->vpci.pdev = NULL. */
export function cancel_slot(v: number, where: string): void {
  rangeset_destroy(M[chk(v, VCPU, where) + VCPU.vpci_mem], where);
  M[v + VCPU.vpci_mem] = NULL;
  M[v + VCPU.vpci_pdev] = NULL;
}

/**
 * for_each_vcpu(d, v): drop v's work for pdev. Reading another vCPU's slot is only safe when the caller's lock keeps
 * that vCPU out of vpci_process_pending (Roger's objection to v5 is exactly that it does not).
 */
export function cancel_domain_slots(d: number, pdev: number, where: string): void {
  for (let i = 0; i < M[chk(d, DOMAIN, where) + DOMAIN.max_vcpus]; i++) {
    const v = M[d + DOMAIN.vcpu + i];
    yield_point(SITE.vpci_cancel_pending);
    if (slot_targets(v, pdev, where)) cancel_slot(v, where);
  }
}
