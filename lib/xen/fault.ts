// fault_point(kind): the one place the model asks "does this call fail?" — iommu_add_device, map_mmio_regions /
// unmap_mmio_regions, xzalloc (-ENOMEM), and each vPCI init hook (init_fault_point). A scenario's one-shot failNext always fails; under verify every other
// call is a recorded choice (lib/sched/fault.ts); otherwise the --inject probabilities decide.

import { M, onAttach } from '../mem/machine.js';
import { setAllocFault } from '../mem/heap.js';
import { faultChoice, faultsRecorded, faultsNoted, noteFault, FAULT_KINDS, type FaultKind } from '../sched/fault.js';
import { XEN, xen, chance, takeForced } from './state.js';

export { FAULT_KINDS, type FaultKind };

/**
 * The vPCI init hooks, each a fault point: late 2021's __start_vpci_array by priority (REGISTER_VPCI_INIT:
 * init_msix HIGH, init_bars MIDDLE, init_msi LOW); HEAD's vpci_init_header and capability inits reuse the indices
 * (init_bars names vpci_init_header there).
 */
export const VPCI_INIT = ['init_msix', 'init_bars', 'init_msi'] as const;
const KIND = { iommu: 0, map: 1, alloc: 2, init: 3 } as const;

export function fault_point(kind: FaultKind): boolean {
  const scripted = kind === 'iommu' ? takeForced(XEN.iommu_fail_next) : kind === 'map' ? takeForced(XEN.map_fail_next) : false;
  if (faultsRecorded()) return faultChoice(KIND[kind], scripted);
  const fail = scripted || (kind === 'iommu' ? chance(M[xen(XEN.iommu_fail_permille)]) : kind === 'map' ? chance(M[xen(XEN.map_fail_permille)]) : false);
  if (faultsNoted()) noteFault(KIND[kind], fail, scripted);
  return fail;
}

/**
 * A vPCI init hook's -ENOMEM (its xzalloc or a vpci_add_register failing), decided once per hook call: the failure
 * that vpci_add_handlers turns into vpci_remove_device. `hook` is the hook's index in the init order.
 */
export function init_fault_point(hook: number): boolean {
  const a = xen(XEN.init_fail_next);
  const scripted = Atomics.load(M, a) === hook + 1 && Atomics.compareExchange(M, a, hook + 1, 0) === hook + 1;
  if (faultsRecorded()) return faultChoice(KIND.init, scripted);
  if (faultsNoted()) noteFault(KIND.init, scripted, scripted);
  return scripted;
}

const allocFault = (): boolean => faultChoice(KIND.alloc, false);
const allocNoted = (): boolean => { noteFault(KIND.alloc, false, false); return false; };
// xzalloc's -ENOMEM is a choice only under verify; a controlled run notes each allocation as the fault point it is
// there (the site digest); free-running, the allocator's hot path tests one null hook.
onAttach(() => setAllocFault(faultsRecorded() ? allocFault : faultsNoted() ? allocNoted : null));
