// A generation's capabilities, in a file of their own so that fn.ts (which installs them) and generation.ts (which
// declares them per generation) do not import each other.

/**
 * What shared code (hypercalls, domains, the stale-mapping scan) may ask of the generation a machine runs: its
 * capabilities, declared with the generation, never its name — so a third generation (or Xen's compiled C) is a
 * new set of answers, not new branches.
 */
export interface GenerationCaps {
  /** PHYSDEVOP_pci_device_reset exists (HEAD physdev.c:71-123); late 2021 answers -ENOSYS. */
  readonly physdevReset: boolean;
  /** The struct vcpu field that is non-NULL while deferred map/unmap work is pending (vpci.h: L21 v->vpci.mem, HEAD v->vpci.pdev). */
  readonly pendingSlot: 'vpci_mem' | 'vpci_pdev';
  /** A BAR maps its guest address to its host address (HEAD header.c:36-40 struct map_data); false: identity (L21). */
  readonly guestBarAddress: boolean;
  /** PHYSDEVOP_pci_mmcfg_reserved re-inits vPCI's extended capabilities (HEAD physdev.c:168-188, d734babf8b). */
  readonly mmcfgReinit: boolean;
}
