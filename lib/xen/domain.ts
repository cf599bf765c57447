// Domains and vCPUs (xen/common/domain.c), domain_crash, and the return-to-guest path hvm_do_resume
// (xen/arch/x86/hvm/hvm.c L21 504-515) that runs vpci_process_pending before the guest may run again.

import { M } from '../mem/machine.js';
import { chk, xzalloc, NULL } from '../mem/heap.js';
import { crash } from '../mem/crash.js';
import { rwlock_init } from '../sync/rwlock.js';
import { yield_point } from '../sched/mode.js';
import { SITE } from '../trace/sites.js';
import { record, EV } from '../trace/recorder.js';
import { DOMAIN, VCPU, MAX_VCPUS, MAX_DOMAINS } from './types.js';
import { XEN, xen, CLASS } from './state.js';
import { fn, installedCaps } from './fn.js';
import type { VcpuPtr, DomainPtr } from './types.js';

/**
 * Boot-time: create a domain with n vCPUs (main thread, before any worker runs). `vpci`: whether it has vPCI. In Xen
 * only the hardware domain does (x86 arch/x86/domain.c:781-791 refuses X86_EMU_VPCI for DomUs; Arm's has_vpci is
 * false, arch/arm/include/asm/domain.h:288-289); DomU vPCI is the machine option `vpciGuestSupport`, after
 * CONFIG_HAS_VPCI_GUEST_SUPPORT from the v4/v5 "PCI devices passthrough on Arm" series.
 */
export function domain_create(domid: number, hardware: boolean, nvcpus: number, vpci = hardware): DomainPtr {
  if (nvcpus < 1 || nvcpus > MAX_VCPUS) throw new RangeError(`a domain has 1..${MAX_VCPUS} vCPUs`);
  const n = M[xen(XEN.nr_domains)];
  if (n >= MAX_DOMAINS) throw new RangeError(`at most ${MAX_DOMAINS} domains`);
  const d = xzalloc(DOMAIN);
  if (d === NULL) throw new RangeError('heap too small for the domains');
  M[d + DOMAIN.domain_id] = domid;
  M[d + DOMAIN.is_hardware_domain] = hardware ? 1 : 0;
  M[d + DOMAIN.has_vpci] = vpci ? 1 : 0;
  M[d + DOMAIN.max_vcpus] = nvcpus;
  M[d + DOMAIN.p2m_index] = n;
  rwlock_init(d + DOMAIN.pci_lock, CLASS.pci_lock);
  rwlock_init(d + DOMAIN.vpci_rwlock, CLASS.vpci_rwlock);
  for (let i = 0; i < nvcpus; i++) {
    const v = xzalloc(VCPU);
    if (v === NULL) throw new RangeError('heap too small for the vCPUs');
    M[v + VCPU.vcpu_id] = i;
    M[v + VCPU.domain] = d;
    M[d + DOMAIN.vcpu + i] = v;
  }
  M[xen(XEN.domains) + n] = d;
  M[xen(XEN.nr_domains)] = n + 1;
  if (hardware) M[xen(XEN.hardware_domain)] = d;
  return d;
}

/** DOMID_XEN. */
export const DOMID_XEN = 0x7ff2;
/** DOMID_IO (public/xen.h). */
export const DOMID_IO = 0x7ff1;

/**
 * dom_xen (common/domain.c setup_system_domains): the owner of devices Xen keeps for itself (pci_hide_device, a PCI
 * serial card for the console). No vCPUs, no p2m, no X86_EMU_VPCI: has_vpci(dom_xen) is false. Not in the domain
 * table the toolstack and the stress workload walk.
 */
export function dom_xen_create(): number { return system_domain_create(DOMID_XEN, XEN.dom_xen, 'dom_xen'); }

/**
 * dom_io (common/domain.c setup_system_domains): the owner of quarantined devices (passthrough/pci.c deassign_device
 * and assign_device). No vCPUs, no p2m the lab maps, no vPCI. Not in the domain table.
 */
export function dom_io_create(): number { return system_domain_create(DOMID_IO, XEN.dom_io, 'dom_io'); }

/** setup_system_domains' shape for both: a domain id, its two locks, no vCPUs, no p2m, no vPCI; kept in a Xen global. */
function system_domain_create(id: number, slot: number, name: string): number {
  const d = xzalloc(DOMAIN);
  if (d === NULL) throw new RangeError(`heap too small for ${name}`);
  M[d + DOMAIN.domain_id] = id;
  M[d + DOMAIN.p2m_index] = -1;
  rwlock_init(d + DOMAIN.pci_lock, CLASS.pci_lock);
  rwlock_init(d + DOMAIN.vpci_rwlock, CLASS.vpci_rwlock);
  M[xen(slot)] = d;
  return d;
}

export function domain_by_index(i: number): DomainPtr { return M[xen(XEN.domains) + i] as DomainPtr; }
export function nr_domains(): number { return M[xen(XEN.nr_domains)]; }
export function domain_vcpu(d: number, i: number): VcpuPtr { return M[chk(d, DOMAIN, 'domain_vcpu') + DOMAIN.vcpu + i] as VcpuPtr; }
export function is_hardware_domain(d: number): boolean { return M[chk(d, DOMAIN, 'is_hardware_domain') + DOMAIN.is_hardware_domain] !== 0; }

/** domain_crash: for the hardware domain Xen itself would go down; for a DomU it is a policy outcome. */
export function domain_crash(d: number, where: string): void {
  chk(d, DOMAIN, where);
  if (M[d + DOMAIN.is_hardware_domain]) crash('bug', where, 'domain_crash(hardware domain)');
  M[d + DOMAIN.is_crashed] = 1;
  record(EV.NOTE, SITE.domain_crash, M[d + DOMAIN.domain_id]);
  yield_point(SITE.domain_crash);
}

export function domain_is_crashed(d: number): boolean { return M[chk(d, DOMAIN, 'domain_is_crashed') + DOMAIN.is_crashed] !== 0; }

/**
 * hvm_do_resume: returns true when the vCPU may enter the guest, false when vpci_process_pending asked to be
 * rescheduled (-ERESTART; SCHEDULE_SOFTIRQ raised, the caller comes back).
 */
export function hvm_do_resume(v: VcpuPtr): boolean {
  const where = 'hvm_do_resume';
  const d = M[chk(v, VCPU, where) + VCPU.domain];
  if (M[chk(d, DOMAIN, where) + DOMAIN.has_vpci] && fn.vpci_process_pending(v)) {
    M[v + VCPU.softirq_pending] = 1;
    return false;
  }
  M[v + VCPU.softirq_pending] = 0;
  return true;
}

/**
 * Return to the guest: come back through SCHEDULE_SOFTIRQ until hvm_do_resume lets v in. Through the table, so a
 * patch can restore an older return path (examples/patches/history/3e568fa9e1-*: before 2018 the vCPU went in anyway).
 */
export function vcpu_return_to_guest(v: VcpuPtr): void {
  while (!fn.hvm_do_resume(v)) { /* -ERESTART: SCHEDULE_SOFTIRQ, come back */ }
}

/** True while v has deferred map/unmap work: L21 keeps a rangeset in the slot, HEAD only the pdev (vpci.h HEAD 155-160). */
export function vcpu_has_pending(v: number): boolean {
  return M[chk(v, VCPU, 'vcpu_has_pending') + VCPU[installedCaps.pendingSlot]] !== NULL;
}
