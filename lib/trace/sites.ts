// Named points in the model: yield points where the analysis says race windows open, and entry points. The list is
// static so every thread agrees on the numbers; add new names at the end.

export const SITE_NAMES = [
  '?',
  // entry points
  'PHYSDEVOP_pci_device_add', 'PHYSDEVOP_pci_device_remove', 'XEN_DOMCTL_assign_device', 'XEN_DOMCTL_deassign_device',
  'vpci_read', 'vpci_write', 'hvm_do_resume', 'vpci_process_pending',
  // race windows
  'defer_map', 'pci_add_device:before-iommu_add_device', 'pci_add_device:iommu-failed',
  'vpci_process_pending:after-consume', 'vpci_process_pending:before-modify_decoding', 'vpci_process_pending:failed',
  'vpci_remove_device:after-unlock', 'vpci_remove_device:before-free', 'vpci_remove_device:after-free',
  'vpci_read:after-lookup', 'vpci_write:after-lookup', 'modify_bars:for_each_pdev', 'modify_bars:tmp',
  'map_range', 'map_range:preempt', 'pci_remove_device:before-free', 'assign_device', 'deassign_device',
  'vpci_cancel_pending', 'vpci_remove_device:terminating', 'hypercall_create_continuation', 'domain_crash',
  'actor', 'cmd_write', 'rom_write', 'bar_write', 'init_bars', 'vpci_add_handlers', 'modify_decoding',
  'vpci_process_pending:restart', 'rangeset_consume_ranges', 'scenario', 'pci_remove_device:after-vpci',
  'guest_mmio', 'msix_find', 'msix_read:after-find', 'msix_write:after-find', 'msix:retry', 'init_msix',
  // HEAD generation
  'vpci_process_pending:before-lock', 'pci_get_pdev', 'free_pdev:after-list_del', 'vpci_assign_device',
  'vpci_deassign_device', 'reassign_device:between-lists', 'reassign_device:after-move', 'PHYSDEVOP_pci_device_reset',
  'XEN_DOMCTL_memory_mapping', 'pci_add_device:after-unlock', 'vpci_init_header',
  // late 2021, added later
  'init_msi',
  // the C backend's yield points beside the lock acquisitions (lib/cxen/hooks.ts)
  'c:after-unlock', 'c:after-free', 'c:conf-write',
  // HEAD, added later (issue 21)
  'PHYSDEVOP_pci_mmcfg_reserved', 'vpci_reinit_ext_capabilities',
] as const;
export type SiteName = (typeof SITE_NAMES)[number];

const index = new Map<string, number>(SITE_NAMES.map((n, i) => [n, i]));

export function siteId(name: SiteName): number { return index.get(name)!; }
export function siteName(id: number): string { return SITE_NAMES[id] ?? `site#${id}`; }

/** Site ids by name, for hot paths: SITE['defer_map']. */
export const SITE = Object.fromEntries(SITE_NAMES.map((n, i) => [n, i])) as Record<SiteName, number>;
