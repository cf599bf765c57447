// The lab's standard machine, for stress campaigns and scenarios: Dom0 plus DomUs with the same number of vCPUs,
// N devices that Dom0 owns at boot with decoding on, each in its own 1 MiB slice of the p2m's MMIO window so BAR
// moves never collide; optionally each with MSI-X. MSI-X is a choice of the machine because late-2021 Xen never
// takes a removed device's table off the domain's list (fixed by c14aea137e, Oct 2022): with MSI-X devices, every
// re-add after a removal writes into freed memory under every 2021 proposal, which would hide the races they differ in. Below workers/ (whose vCPU bodies rely on its layout) and stress/ (which boots it).

import { msixLayout, barAddr, PCI_MSIX_ENTRY_SIZE, type HwDesc, type PciFunctionDesc } from '../hw/index.js';
import type { ModelDesc } from './boot.js';
import { P2M_BASE_PFN, P2M_FRAMES } from '../xen/p2m.js';

export const DEVICE_SLICE = 0x100000;
export const MAX_DEVICES = Math.floor((P2M_FRAMES * 4096) / DEVICE_SLICE) - 1;
/** BAR0 alternates between these offsets inside a device's slice when a guest moves it. */
export const BAR0_OFFSETS = [0, 0x20000] as const;

/** With MSI-X, a device's table of MSIX_ENTRIES entries and its PBA sit on their own pages of BAR0. */
export const MSIX_ENTRIES = 8, MSIX_TABLE_OFFSET = 0x8000, MSIX_PBA_OFFSET = 0x9000;

export const deviceBase = (i: number): number => P2M_BASE_PFN * 4096 + (i + 1) * DEVICE_SLICE;
export const deviceSbdf = (i: number): number => (0 << 8) | ((3 + i) << 3); // 00:03.0, 00:04.0, ...

export function stressHw(devices: number, msix = false, msi = false): HwDesc {
  const functions: PciFunctionDesc[] = [];
  for (let i = 0; i < devices; i++) {
    const base = deviceBase(i);
    functions.push({
      sbdf: deviceSbdf(i), vendor: 0x1af4, device: 0x1000 + i, memoryDecoding: true,
      bars: [
        { kind: 'mem32', size: 0x10000, addr: base + BAR0_OFFSETS[0] },
        { kind: 'mem64', size: 0x4000, addr: base + 0x40000, prefetchable: true },
        null,
        { kind: 'io', size: 0x20, addr: 0x2000 + i * 0x20 },
      ],
      rom: { size: 0x8000, addr: base + 0x80000 },
      ...(msix ? { msix: { entries: MSIX_ENTRIES, tableBar: 0, tableOffset: MSIX_TABLE_OFFSET, pbaBar: 0, pbaOffset: MSIX_PBA_OFFSET } } : {}),
      ...(msi ? { msi: true } : {}),
    });
  }
  return { functions };
}

/** vpciGuestSupport: DomUs get vPCI (off by default, as in Xen; see ModelDesc). */
export interface StressShape { vcpus: number; domus: number; devices: number; msix?: boolean; vpciGuestSupport?: boolean }

export const WORKLOAD_WORDS = 8;
/** Words of the 'workload' region: the hypercall vCPU sets DONE when its cycles are over. */
export const WL = { DONE: 0 } as const;

export function stressModel(shape: StressShape, strategy: string, seed: number, inject: { iommu: number; map: number }): ModelDesc {
  return {
    dom0Vcpus: shape.vcpus,
    domUVcpus: Array.from({ length: shape.domus }, () => shape.vcpus),
    hw: stressHw(shape.devices, shape.msix),
    bootDevices: Array.from({ length: shape.devices }, (_, i) => deviceSbdf(i)),
    strategy, seed, inject, mapBatch: 4, preemptEvery: 3, vpciGuestSupport: shape.vpciGuestSupport === true,
    threads: shape.vcpus * (1 + shape.domus),
    extraRegions: { workload: WORKLOAD_WORDS },
  };
}

/**
 * The guest-physical address of dword `field` (a PCI_MSIX_ENTRY_*_OFFSET) of MSI-X table entry `entry` of a device,
 * at the BAR's current address (guest and host addresses agree in the model), or null if it has no such entry.
 */
export function msixEntryAddr(sbdf: number, entry: number, field: number): number | null {
  const l = msixLayout(sbdf);
  if (!l || !Number.isInteger(entry) || entry < 0 || entry >= l.entries || ![0, 4, 8, 12].includes(field)) return null;
  return barAddr(sbdf, l.tableBar) + l.tableOffset + entry * PCI_MSIX_ENTRY_SIZE + field;
}
