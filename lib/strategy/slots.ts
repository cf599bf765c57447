// Dropping a vCPU's pending map/unmap work: what every cancelling or rechecking strategy does to a slot.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { VCPU } from '../xen/types.js';
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
