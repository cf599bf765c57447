// Hypervisor-wide state in the machine's 'xen' region: pcidevs_lock, the device list, the domain table,
// system_state and fault-injection knobs. Plus per-thread `current` (the vCPU this OS thread is running now).

import { M, cpu, region, onAttach, onLayout, LAYOUT, lockClassId } from '../mem/machine.js';
import { defineLayout } from '../mem/layout.js';
import { fp, fpOn } from '../mem/footprint.js';
import { SPINLOCK_WORDS, spin_lock_init } from '../sync/spinlock.js';
import { MAX_DOMAINS, LOCK_CLASSES } from './types.js';
import type { DomainPtr, VcpuPtr } from './types.js';

export const XEN = defineLayout('xen', {
  pcidevs_lock: SPINLOCK_WORDS,   // _pcidevs_lock: recursive spinlock (pci.c L21 53-68)
  alldevs_list: 1,                // first pci_dev on the segment's alldevs_list
  system_state: 1,
  hardware_domain: 1,
  nr_domains: 1,
  domains: MAX_DOMAINS,           // struct domain pointers
  strategy: 1,
  // fault injection (per mille), and scenario-driven one-shot failures
  iommu_fail_permille: 1,
  map_fail_permille: 1,
  iommu_fail_next: 1,             // fail the next N iommu_add_device calls
  map_fail_next: 1,               // fail the next N map/unmap_mmio_regions calls
  map_batch: 1,                   // frames one map_mmio_regions call may do (partial progress)
  preempt_every: 1,               // general_preempt_check() is true every N-th call (0 = never)
  seed: 1,
  // counters for reports (atomic adds)
  pending_done: 1,
  adds: 1,
  removes: 1,
  init_fail_next: 1,              // 1 + the index of the vPCI init hook whose next call fails
  dom_xen: 1,                     // DomXEN: owner of hidden devices (no vCPUs, no vPCI)
  dom_io: 1,                      // DomIO: owner of quarantined devices (no vCPUs, no vPCI)
  iommu_quarantine: 1,            // iommu_quarantine (passthrough/iommu.c): deassign sends devices to dom_io
});

export const SYS_STATE_boot = 0, SYS_STATE_active = 1;

/** Lock classes the model uses; pass them to createMachine so every thread agrees on the ids. */
export const MODEL_LOCK_CLASSES = LOCK_CLASSES;

let base = 0;
export let CLASS = { pcidevs_lock: 0, pci_lock: 0, vpci_rwlock: 0, vpci_lock: 0, pdev_vpci_lock: 0, rangeset: 0 };
let rng = 1, preemptCalls = 0;
let current_vcpu = 0;

onLayout(() => {
  if (!LAYOUT.regions.xen) return; // a bare machine (lock tests) has no model
  base = region('xen').base;
  CLASS = {
    pcidevs_lock: lockClassId('pcidevs_lock'), pci_lock: lockClassId('d->pci_lock'), vpci_rwlock: lockClassId('d->vpci_rwlock'),
    vpci_lock: lockClassId('vpci->lock'), pdev_vpci_lock: lockClassId('pdev->vpci_lock'), rangeset: lockClassId('rangeset->lock'),
  };
});

onAttach(() => {
  if (!LAYOUT.regions.xen) return;
  rng = ((M[base + XEN.seed] ^ Math.imul(cpu + 1, 0x9e3779b1)) | 0) || 0x2545f491;
  preemptCalls = 0;
  current_vcpu = 0;
});

/** Word address of a field of the global state. */
export function xen(field: number): number { if (fpOn) fp(base + field, base + field + 1); return base + field; }

export function initXenState(seed: number): void {
  spin_lock_init(xen(XEN.pcidevs_lock), CLASS.pcidevs_lock);
  M[xen(XEN.system_state)] = SYS_STATE_boot;
  M[xen(XEN.seed)] = seed | 0;
  M[xen(XEN.map_batch)] = 4;
  M[xen(XEN.preempt_every)] = 0;
}

export function pcidevs_lock_addr(): number { return base + XEN.pcidevs_lock; }
export function system_state(): number { return M[base + XEN.system_state]; }
export function hardware_domain(): DomainPtr { return M[base + XEN.hardware_domain] as DomainPtr; }
export function dom_xen(): DomainPtr { return M[base + XEN.dom_xen] as DomainPtr; }
export function dom_io(): DomainPtr { return M[base + XEN.dom_io] as DomainPtr; }
/** iommu_quarantine: deassigned devices go to dom_io (Xen's default), not straight back to the hardware domain. */
export function iommu_quarantine(): boolean { return M[xen(XEN.iommu_quarantine)] !== 0; }

// ---- current: which vCPU this thread runs (Xen's per-CPU `current`) ----
export function set_current(v: number): void { current_vcpu = v; }
export function current(): VcpuPtr { return current_vcpu as VcpuPtr; }

// ---- deterministic per-thread randomness for fault injection (same run, same schedule → same faults) ----
export function rand32(): number {
  rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5;
  return rng >>> 0;
}
export function chance(permille: number): boolean { return permille > 0 && rand32() % 1000 < permille; }

/** Consume one forced failure from a one-shot counter (scenarios use these for exact fault placement). */
export function takeForced(field: number): boolean {
  const a = base + field;
  if (fpOn) fp(a, a + 1);
  for (;;) {
    const n = Atomics.load(M, a);
    if (n <= 0) return false;
    if (Atomics.compareExchange(M, a, n, n - 1) === n) return true;
  }
}

/** Xen's general_preempt_check(): deterministic in the model (every N-th call) so schedules replay exactly. */
export function general_preempt_check(): boolean {
  const every = M[base + XEN.preempt_every];
  return every > 0 && ++preemptCalls % every === 0;
}
