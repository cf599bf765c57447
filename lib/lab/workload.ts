// The lab's standard machine, for stress campaigns and scenarios: Dom0 plus DomUs with the same number of vCPUs,
// N devices that Dom0 owns at boot with decoding on, each in its own 1 MiB slice of the p2m's MMIO window so BAR
// moves never collide. Below workers/ (whose vCPU bodies rely on its layout) and stress/ (which boots it).

import type { HwDesc, PciFunctionDesc } from '../hw/index.js';
import type { ModelDesc } from './boot.js';
import { P2M_BASE_PFN, P2M_FRAMES } from '../xen/p2m.js';

export const DEVICE_SLICE = 0x100000;
export const MAX_DEVICES = Math.floor((P2M_FRAMES * 4096) / DEVICE_SLICE) - 1;
/** BAR0 alternates between these offsets inside a device's slice when a guest moves it. */
export const BAR0_OFFSETS = [0, 0x20000] as const;

export const deviceBase = (i: number): number => P2M_BASE_PFN * 4096 + (i + 1) * DEVICE_SLICE;
export const deviceSbdf = (i: number): number => (0 << 8) | ((3 + i) << 3); // 00:03.0, 00:04.0, ...

export function stressHw(devices: number): HwDesc {
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
    });
  }
  return { functions };
}

export interface StressShape { vcpus: number; domus: number; devices: number }

export const WORKLOAD_WORDS = 8;
/** Words of the 'workload' region: the hypercall vCPU sets DONE when its cycles are over. */
export const WL = { DONE: 0 } as const;

export function stressModel(shape: StressShape, strategy: string, seed: number, inject: { iommu: number; map: number }): ModelDesc {
  return {
    dom0Vcpus: shape.vcpus,
    domUVcpus: Array.from({ length: shape.domus }, () => shape.vcpus),
    hw: stressHw(shape.devices),
    bootDevices: Array.from({ length: shape.devices }, (_, i) => deviceSbdf(i)),
    strategy, seed, inject, mapBatch: 4, preemptEvery: 3,
    threads: shape.vcpus * (1 + shape.domus),
    extraRegions: { workload: WORKLOAD_WORDS },
  };
}
