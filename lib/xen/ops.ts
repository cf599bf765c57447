// The strategy trait: what a locking strategy may change in the model, and nothing else. The late-2021 code in
// vpci.ts / header.ts / pci.ts calls these at the points where the proposed patches differ; baseline fills them
// with what L21 did (mostly nothing). lib/strategy/<name>.ts each provide one, as a readable diff.

export interface VpciOps {
  readonly name: string;

  /** vpci_read/vpci_write: per-domain lock around lookup and handler walk (upstream: d->pci_lock). */
  vpci_read_enter(d: number): void;
  vpci_read_exit(d: number): void;
  vpci_write_enter(d: number): void;
  vpci_write_exit(d: number): void;

  /** The device lookup of vpci_read/vpci_write. L21: pci_get_pdev_by_domain walks alldevs_list, no lock. */
  pci_get_pdev(d: number, sbdf: number, where: string): number;

  /**
   * Take the lock that guards pdev's vPCI state; returns its address, or 0 when the device has no vPCI state and
   * the access goes to hardware. L21: spin_lock(&pdev->vpci->lock) with no NULL check.
   */
  vpci_lock(pdev: number, where: string): number;
  vpci_unlock(pdev: number, lock: number): void;

  /** modify_bars' walk over the domain's other devices: false skips tmp; true requires modify_bars_put(tmp). */
  modify_bars_get(pdev: number, tmp: number): boolean;
  modify_bars_put(pdev: number, tmp: number): void;

  /** pci.c: around the parts that publish or retire a device's vPCI state on a domain's list. */
  pdev_list_write_enter(d: number): void;
  pdev_list_write_exit(d: number): void;

  /** Whole functions a strategy rewrites, as its patch does. */
  vpci_process_pending(v: number): boolean;
  /** 0, or -ERESTART when removal must be retried through a hypercall continuation. */
  vpci_remove_device(pdev: number): number;
}

/** The active strategy's operations (installed per thread before the model runs): `X.vpci_lock(pdev, ...)`. */
export let X: VpciOps = undefined as unknown as VpciOps;
export function installOps(o: VpciOps): void { X = o; }
