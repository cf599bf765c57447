// Test helpers for the model: a small default machine, booted on the main thread.

import { bootMachine, type ModelDesc, type World } from '../lib/lab/boot.js';
import type { Machine } from '../lib/mem/machine.js';
import type { HwDesc } from '../lib/hw/index.js';
import { ModelCrash, type Outcome } from '../lib/mem/crash.js';

export const SBDF_A = (0 << 8) | (3 << 3) | 0;   // 00:03.0
export const SBDF_B = (0 << 8) | (4 << 3) | 0;   // 00:04.0

/** Two devices in the p2m window: 64 KiB mem32 BAR0 + 16 KiB mem64 BAR1/2 + 8 KiB ROM each. */
export function twoDevices(decoding = true): HwDesc {
  const dev = (sbdf: number, base: number) => ({
    sbdf, vendor: 0x8086, device: 0x1234 + (sbdf & 0xff), memoryDecoding: decoding,
    bars: [
      { kind: 'mem32' as const, size: 0x10000, addr: base },
      { kind: 'mem64' as const, size: 0x4000, addr: base + 0x10000, prefetchable: true },
      null,
      { kind: 'io' as const, size: 0x20, addr: 0x1000 + (sbdf & 0xff) * 0x20 },
    ],
    rom: { size: 0x2000, addr: base + 0x20000 },
  });
  return { functions: [dev(SBDF_A, 0xe0100000), dev(SBDF_B, 0xe0200000)] };
}

export function boot(over: Partial<ModelDesc> = {}): { machine: Machine; world: World } {
  return bootMachine({ dom0Vcpus: 2, domUVcpus: [2], hw: twoDevices(), strategy: 'baseline', threads: 4, ...over });
}

/** Run fn and return the model crash kind it ended in, or 'ok'. */
export function outcomeOf(fn: () => void): Outcome | 'ok' {
  try { fn(); return 'ok'; } catch (e) {
    if (e instanceof ModelCrash) return e.kind;
    throw e;
  }
}

export function crashOf(fn: () => void): ModelCrash | undefined {
  try { fn(); return undefined; } catch (e) {
    if (e instanceof ModelCrash) return e;
    throw e;
  }
}
