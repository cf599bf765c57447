// vpci-lab/model: the model's API for patch and scenario files, so they import nothing from dist/ paths.
// `import { fn, M, chk, PCI_DEV, spin_lock, yield_point, SITE } from 'vpci-lab/model'`. Everything here is a live
// binding into the running model (M is the attached machine's memory in whichever thread loads the file).

// Memory: the machine's words, the checked dereference, the heap, crashes.
export { M } from './mem/machine.js';
export { chk, xzalloc, xfree, NULL, POISON } from './mem/heap.js';
export { crash, ASSERT, BUG_ON } from './mem/crash.js';
// Locks, Xen's algorithms.
export {
  spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_barrier, spin_lock_recursive, spin_unlock_recursive,
  read_lock, read_unlock, read_trylock, write_lock, write_unlock, write_trylock,
} from './sync/index.js';
// Yield points (where other CPUs may run) and their names.
export { yield_point, backoff_point } from './sched/mode.js';
export { SITE, SITE_NAMES } from './trace/sites.js';
// Struct layouts and Xen's error codes.
export * from './xen/types.js';
export { PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE, PCI_BASE_ADDRESS_0 } from './hw/pci_regs.js';
// Xen globals and helpers shared by both generations.
export { current, hardware_domain, dom_xen, system_state } from './xen/state.js';
export { domain_crash, is_hardware_domain, domain_by_index, nr_domains, domain_vcpu } from './xen/domain.js';
export { pcidevs_lock, pcidevs_unlock, pci_get_pdev_by_domain, pci_get_pdev_in_domain } from './xen/pci.js';
export { rangeset_destroy } from './xen/rangeset.js';
// The table of model functions by Xen name: call other model functions through it, as the model does.
export { fn, MODEL_FN_NAMES, type ModelFns, type ModelFnName, type Patch, type Replacements } from './xen/fn.js';
// HEAD's pending step after its slot load and lock (a patch that moves the load reuses the rest).
export { process_pending_locked } from './xen/head/header.js';
// Pieces of HEAD's vpci_read / vpci_write a patch that rewrites them needs (examples/patches/history/6ccb5e308c-*):
// the register callbacks by id, the overlap test, the byte merge, and the masked write of one register.
export { callRead, callWrite } from './xen/handlers.js';
export { merge_result } from './xen/vpci-hw.js';
export { vpci_register_cmp, vpci_write_helper } from './xen/head/vpci.js';
// ... and of HEAD's modify_bars (examples/patches/history/ee045f3a4a-*): filling the device's own BAR rangesets,
// keeping the MSI-X table and PBA out of them, subtracting another device's enabled BARs, the boot-time apply_map, and the poison-checking list walk.
export { fill_own_bars, remove_msix_regions, subtract_device, apply_map } from './xen/head/header.js';
// list.h for the two pci_dev lists (singly linked in the model: a next word per list in struct pci_dev), so a
// patch can rewrite pci_remove_device or free_pdev from scratch.
export { list_next, list_add_alldevs, list_del_alldevs, list_add_domain, list_del_domain, LIST_POISON1, LIST_POISON2 } from './xen/list.js';
export { list_del, ALLDEVS_LIST } from './xen/list-api.js';
export { XEN, xen } from './xen/state.js';
export { rw_is_write_locked } from './sync/rwlock.js';
export { SYS_STATE_active } from './xen/state.js';
