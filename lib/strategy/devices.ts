// What the stale-mapping scan (lib/check/stale.ts) judges, described the same way whichever backend holds the
// devices: per domain, each device's BARs as vPCI keeps them (struct vpci_bar), its MSI-X table and PBA registers
// and whether deferred BAR work is pending for it on some vCPU. The TypeScript model describes its own structs
// (lib/check/model-devices.ts); a backend whose devices live elsewhere (the C backend: C's structs on the heap,
// lib/cxen/scan.ts) registers a source with its patch, and installing a strategy picks its chain's source.

import type { Patch } from '../xen/fn.js';

/** What the scan needs of a booted machine (lib/lab's World has it): the lab's domains and their vCPUs. */
export interface ScanWorld { domains: readonly number[]; vcpus: readonly (readonly number[])[] }

/** One BAR (struct vpci_bar): host address, the address the guest sees (L21 and 4.17: the host's), size in bytes. */
export interface ScanBar {
  index: number;
  kind: 'mem' | 'rom' | 'other';
  addr: number;
  guestAddr: number;
  size: number;
  enabled: boolean;
}

/** struct vpci_msix's table and PBA registers (BIR in the low bits, offset above) and its max_entries. */
export interface ScanMsix { tables: readonly [table: number, pba: number]; maxEntries: number }

export interface ScanDevice {
  sbdf: number;
  /** Every BAR slot (header.bars[0..6]); absent when the device has no vPCI state (pdev->vpci NULL). */
  bars?: readonly ScanBar[];
  msix?: ScanMsix;
  /** Deferred BAR work for this device on some vCPU (v->vpci). */
  pending: boolean;
}

/** Devices on the domain's pdev_list, for world.domains[i] at index i. */
export type ScanDomains = readonly (readonly ScanDevice[])[];
export type DeviceSource = (world: ScanWorld) => ScanDomains;

const sources = new WeakMap<Patch, DeviceSource>();
let installed: DeviceSource | undefined;

/** A patch whose devices are not the model's says where they are (at module load, beside its export). */
export function registerDeviceSource(p: Patch, source: DeviceSource): void { sources.set(p, source); }

/** installStrategy: the last source registered along the chain, or none (the model's structs). */
export function selectDeviceSource(chain: readonly Patch[]): void {
  installed = undefined;
  for (const p of chain) installed = sources.get(p) ?? installed;
}

export function installedDeviceSource(): DeviceSource | undefined { return installed; }
