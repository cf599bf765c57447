// Property-based fuzzing of guest config accesses (fast-check): random function, offset, size and value through
// the ECAM trap as a Dom0 vCPU, resuming after each access as Xen does. The model never throws anything but a
// classified ModelCrash; reads follow the merge rules (every L21 header handler reads hardware, so a Dom0 read of
// any byte equals the hardware's); and after every access decoding state and the p2m agree.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelCrash } from '../../../lib/mem/crash.js';
import { set_current, XEN, xen } from '../../../lib/xen/state.js';
import { M } from '../../../lib/mem/machine.js';
import { hvm_do_resume } from '../../../lib/xen/domain.js';
import { vpci_mmcfg_read, vpci_mmcfg_write } from '../../../lib/xen/mmio.js';
import { pci_conf_read } from '../../../lib/hw/index.js';
import { staleMappingScan } from '../../../lib/check/stale.js';
import { bootMachine } from '../../../lib/lab/boot.js';
import { stressHw, deviceSbdf, deviceBase } from '../../../lib/lab/workload.js';
import type { VcpuPtr } from '../../../lib/xen/types.js';

const DEVICES = 3;
const ABSENT = (0 << 8) | (0x1e << 3);
const REGS = [0x00, 0x02, 0x04, 0x06, 0x08, 0x0c, 0x0e, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x2c, 0x30, 0x34, 0x3c, 0x40, 0xffc];

interface Op { dev: number; reg: number; size: 1 | 2 | 4; write: boolean; value: number; near: boolean }

const opArb: fc.Arbitrary<Op> = fc.record({
  dev: fc.integer({ min: 0, max: DEVICES }),
  reg: fc.oneof({ arbitrary: fc.constantFrom(0x04, 0x30), weight: 3 }, { arbitrary: fc.constantFrom(...REGS), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 0xfff }), weight: 1 }),
  size: fc.constantFrom(1 as const, 2 as const, 4 as const),
  write: fc.boolean(),
  value: fc.oneof(fc.constantFrom(0, 2, 3, 0xffffffff, 0x6, 1), fc.nat()),
  near: fc.boolean(),   // BAR writes mostly land inside the device's own slice, so mappings really happen
});

function boot(strategy: string) {
  const { world } = bootMachine({
    dom0Vcpus: 1, domUVcpus: [], hw: stressHw(DEVICES), bootDevices: Array.from({ length: DEVICES }, (_, i) => deviceSbdf(i)),
    strategy, threads: 1, mapBatch: 3, preemptEvery: 2,
  });
  const v = world.vcpus[0][0];
  set_current(v);
  return { world, v };
}

/**
 * Where a `near` BAR or ROM write lands inside the device's slice. On HEAD the ROM and the other BARs keep apart:
 * HEAD's rom_only modify_bars never subtracts the device's own BARs (header.c:479-481 test the own BAR's type, which
 * is always the ROM then), so a ROM placed over an enabled BAR unmaps that BAR when it is unmapped; test/lib/xen/head.test.ts
 * shows that on its own.
 */
let nearOffset = (_reg: number, value: number): number => value & 0xf0000;

function apply(op: Op, v: VcpuPtr): number | undefined {
  const sbdf = op.dev === DEVICES ? ABSENT : deviceSbdf(op.dev);
  const reg = op.reg & ~(op.size - 1);
  const off = (sbdf << 12) | reg;
  let result: number | undefined;
  if (op.write) {
    let value = op.value >>> 0;
    if (op.near && op.dev < DEVICES && reg >= 0x10 && reg <= 0x30 && op.size === 4) value = (deviceBase(op.dev) + nearOffset(reg, value)) >>> 0;
    vpci_mmcfg_write(off, op.size, value);
  } else {
    result = vpci_mmcfg_read(off, op.size) as number;
    const hw = pci_conf_read(sbdf, reg, op.size) >>> 0;
    assert.equal(result >>> 0, hw, `read ${sbdf.toString(16)}:${reg.toString(16)}/${op.size} = ${result.toString(16)}, hardware ${hw.toString(16)}`);
  }
  while (!hvm_do_resume(v)) { /* pending work: run it */ }
  return result;
}

describe('fuzzing guest config accesses (fast-check)', function () {
  this.timeout(120_000);

  for (const [strategy, gen] of [['pcidevs', 'l21'], ['upstream', 'head']] as const) it(`${strategy} (${gen}): >= 10^4 random accesses, no crash, reads follow the merge rules, mappings consistent`, () => {
    nearOffset = gen === 'head' ? (reg, value) => (reg === 0x30 ? 0x80000 : 0) + (value & 0x70000) : (_reg, value) => value & 0xf0000;
    let accesses = 0, pending = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 100, maxLength: 160 }), (ops) => {
      const { world, v } = boot(strategy);
      for (const op of ops) {
        apply(op, v as VcpuPtr);
        accesses++;
        const stale = staleMappingScan(world);
        assert.deepEqual(stale, [], `after ${JSON.stringify(op)}`);
      }
      pending += M[xen(XEN.pending_done)];
    }), { numRuns: 80, seed: 42 });
    assert.ok(accesses >= 10_000, `${accesses} accesses`);
    assert.ok(pending >= 500, `the fuzz really maps and unmaps BARs (${pending} deferred operations completed)`);
  });

  it('baseline: whatever happens is a classified ModelCrash, never another exception', () => {
    const kinds = new Set<string>();
    fc.assert(fc.property(fc.array(opArb, { minLength: 100, maxLength: 160 }), (ops) => {
      const { v } = boot('baseline');
      try {
        for (const op of ops) apply(op, v as VcpuPtr);
      } catch (e) {
        if (!(e instanceof ModelCrash)) throw e;
        kinds.add(e.kind);
      }
    }), { numRuns: 80, seed: 43 });
    for (const k of kinds) assert.ok(['null-deref', 'use-after-free', 'assert', 'bug'].includes(k), k);
  });
});
