// Emulated PCI hardware: header reset state, BAR/ROM sizing vectors (model doc F.4/F.5), ECAM decoding (F.6),
// Xen's access rules (A.15), byte/word merging, MMIO frame identity, and dword atomicity on real threads.

import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import fc from 'fast-check';
import { createMachine, attach, type Machine } from '../../../lib/mem/machine.js';
import {
  type HwDesc, type PciFunctionDesc, PCI_SBDF, sbdfSeg, sbdfBus, sbdfDev, sbdfFn, sbdfName, VPCI_ECAM_BDF, ECAM_REG_OFFSET,
  ECAM_OFFSET, hwWords, hwRegions, initHw, hwFunctions, pci_conf_read, pci_conf_write, pci_conf_read8, pci_conf_read16,
  pci_conf_read32, pci_conf_write8, pci_conf_write16, pci_conf_write32, ecam_read, ecam_write, PAGE_SHIFT, PFN_DOWN,
  barKind, barSize, barAddr, barFrames, barDecoding, decodedFrames, allDecodedFrames, frameOwner,
  BAR_EMPTY, BAR_IO, BAR_MEM32, BAR_MEM64_LO, BAR_MEM64_HI, BAR_ROM, ROM_SLOT,
  PCI_VENDOR_ID, PCI_DEVICE_ID, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER, PCI_STATUS,
  PCI_CLASS_REVISION, PCI_HEADER_TYPE, PCI_CACHE_LINE_SIZE, PCI_LATENCY_TIMER, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN,
  PCI_CAPABILITY_LIST, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_3,
  PCI_BASE_ADDRESS_4, PCI_BASE_ADDRESS_5, PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_IO_MASK,
  PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE, PCI_ROM_ADDRESS_MASK, PCI_HEADER_TYPE_MASK, PCI_HEADER_TYPE_MULTIFUNC,
} from '../../../lib/hw/index.js';
import { runWorkers } from '../../fixtures/worker-harness.js';
import type { LaneJob, LaneResult } from '../../fixtures/hw-lanes-worker.js';

const GiB = 2 ** 30, MiB = 2 ** 20, KiB = 1024;
const A = PCI_SBDF(0, 0, 3, 0);   // the F.4 device: 1 MiB mem32, 8 GiB 64-bit prefetchable, io, ROM
const B0 = PCI_SBDF(0, 1, 0, 0);  // B0 and B2 share a device: multi-function
const B2 = PCI_SBDF(0, 1, 0, 2);
const C = PCI_SBDF(1, 0, 0, 0);   // another segment: reachable by sbdf, not through segment 0's ECAM
const ABSENT = PCI_SBDF(0, 0, 9, 0);

const fnA: PciFunctionDesc = {
  sbdf: A, vendor: 0x8086, device: 0x100e, classCode: 0x020000, revision: 3, memoryDecoding: true,
  bars: [
    { kind: 'mem32', size: MiB, addr: 0xfe000000 },                           // BAR0
    { kind: 'mem64', size: 8 * GiB, addr: 16 * GiB, prefetchable: true },     // BAR1 + BAR2
    { kind: 'io', size: 32, addr: 0xc000 },                                   // BAR3
    null,                                                                     // BAR4
    { kind: 'mem32', size: 4 * KiB, addr: 0xfebf0000, prefetchable: true },  // BAR5
  ],
  rom: { size: 64 * KiB, addr: 0xfeb00000 },
};
const DESC: HwDesc = {
  functions: [
    fnA,
    { sbdf: B0, vendor: 0x1af4, device: 0x1000, bars: [] },
    { sbdf: B2, vendor: 0x1af4, device: 0x1001, bars: [{ kind: 'mem64', size: 16 * KiB, addr: 0xfe100000 }], rom: { size: 2 * KiB, addr: 0xfeb80000, enabled: true } },
    { sbdf: C, vendor: 0x10ec, device: 0x8168, bars: [{ kind: 'io', size: 256, addr: 0xd000 }] },
  ],
};

function boot(desc: HwDesc = DESC): Machine {
  const m = createMachine({ threads: 4, heapWords: 1024, regions: hwRegions(desc) });
  attach(m);
  initHw(m, desc);
  return m;
}

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** Xen's pci_size_mem_bar (pci.c L21 679-724), through the hardware accessors only; returns [size, slots used]. */
function pci_size_mem_bar(sbdf: number, pos: number, last: boolean, rom: boolean): [size: bigint, slots: number] {
  const bar = pci_conf_read32(sbdf, pos);
  const is64 = !rom && (bar & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
  const mask = BigInt(rom ? PCI_ROM_ADDRESS_MASK : PCI_BASE_ADDRESS_MEM_MASK);
  pci_conf_write32(sbdf, pos, 0xffffffff);
  let hi = 0;
  if (is64) {
    if (last) { pci_conf_write32(sbdf, pos, bar); return [0n, 1]; }
    hi = pci_conf_read32(sbdf, pos + 4);
    pci_conf_write32(sbdf, pos + 4, 0xffffffff);
  }
  let size = BigInt(pci_conf_read32(sbdf, pos)) & mask;
  if (is64) {
    size |= BigInt(pci_conf_read32(sbdf, pos + 4)) << 32n;
    pci_conf_write32(sbdf, pos + 4, hi);
  } else if (size) {
    size |= 0xffffffffn << 32n;
  }
  pci_conf_write32(sbdf, pos, bar);
  return [BigInt.asUintN(64, -size), is64 ? 2 : 1];
}

describe('hw: emulated PCI functions', () => {
  beforeEach(() => { boot(); });

  describe('power-on header', () => {
    it('identifies each function and reads the type-0 header it was described with', () => {
      assert.equal(pci_conf_read16(A, PCI_VENDOR_ID), 0x8086);
      assert.equal(pci_conf_read16(A, PCI_DEVICE_ID), 0x100e);
      assert.equal(pci_conf_read32(A, PCI_VENDOR_ID), 0x100e8086);
      assert.equal(pci_conf_read32(A, PCI_CLASS_REVISION), 0x02000003);
      assert.equal(pci_conf_read16(A, PCI_COMMAND), PCI_COMMAND_MEMORY, 'memoryDecoding: true sets COMMAND.MEMORY');
      assert.equal(pci_conf_read16(B2, PCI_COMMAND), 0);
      assert.equal(pci_conf_read16(A, PCI_STATUS), 0);
      assert.equal(pci_conf_read8(A, PCI_HEADER_TYPE), 0, 'single-function type-0 header');
      assert.equal(pci_conf_read8(B0, PCI_HEADER_TYPE), PCI_HEADER_TYPE_MULTIFUNC);
      assert.equal(pci_conf_read8(B2, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK, 0);
      assert.equal(pci_conf_read16(C, PCI_VENDOR_ID), 0x10ec, 'segment 1 is reachable by sbdf');
      assert.deepEqual(hwFunctions(), [A, B0, B2, C]);
    });

    it('programs BARs with address and read-only type bits, and records the true kind and size', () => {
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfe000000);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_1), PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_2), 4, 'high dword of 16 GiB');
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_3), 0xc000 | PCI_BASE_ADDRESS_SPACE_IO);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_4), 0);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_5), (0xfebf0000 | PCI_BASE_ADDRESS_MEM_PREFETCH) >>> 0);
      assert.equal(pci_conf_read32(A, PCI_ROM_ADDRESS), 0xfeb00000, 'ROM disabled at boot unless described enabled');
      assert.equal(pci_conf_read32(B2, PCI_ROM_ADDRESS), (0xfeb80000 | PCI_ROM_ADDRESS_ENABLE) >>> 0);
      assert.deepEqual([0, 1, 2, 3, 4, 5, ROM_SLOT].map((i) => barKind(A, i)),
        [BAR_MEM32, BAR_MEM64_LO, BAR_MEM64_HI, BAR_IO, BAR_EMPTY, BAR_MEM32, BAR_ROM]);
      assert.deepEqual([0, 1, 2, 3, 4, 5, ROM_SLOT].map((i) => barSize(A, i)), [MiB, 8 * GiB, 0, 32, 0, 4 * KiB, 64 * KiB]);
      assert.equal(barAddr(A, 1), 16 * GiB);
      assert.equal(barAddr(A, 3), 0xc000);
      assert.equal(barKind(ABSENT, 0), BAR_EMPTY);
    });
  });

  describe('BAR sizing (F.4)', () => {
    it('1 MiB 32-bit BAR: all-ones reads back 0xfff00000, sizes to 0x100000, restores', () => {
      pci_conf_write32(A, PCI_BASE_ADDRESS_0, 0xffffffff);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfff00000);
      pci_conf_write32(A, PCI_BASE_ADDRESS_0, 0xfe000000);
      assert.deepEqual(pci_size_mem_bar(A, PCI_BASE_ADDRESS_0, false, false), [0x100000n, 1]);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfe000000);
    });

    it('8 GiB 64-bit prefetchable BAR: low reads 0x0000000c, high 0xfffffffe, sizes to 2^33 over two slots', () => {
      pci_conf_write32(A, PCI_BASE_ADDRESS_1, 0xffffffff);
      pci_conf_write32(A, PCI_BASE_ADDRESS_2, 0xffffffff);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_1), 0x0000000c);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_2), 0xfffffffe);
      pci_conf_write32(A, PCI_BASE_ADDRESS_1, 0);
      pci_conf_write32(A, PCI_BASE_ADDRESS_2, 4);
      assert.deepEqual(pci_size_mem_bar(A, PCI_BASE_ADDRESS_1, false, false), [0x2_0000_0000n, 2]);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_2), 4);
      assert.equal(barAddr(A, 1), 16 * GiB);
    });

    it('ROM: mask ~0x7ff, reserved bits 10:1 stay zero, enable bit is writable', () => {
      pci_conf_write32(A, PCI_ROM_ADDRESS, 0xffffffff);
      assert.equal(pci_conf_read32(A, PCI_ROM_ADDRESS), 0xffff0001);
      pci_conf_write32(A, PCI_ROM_ADDRESS, ~PCI_ROM_ADDRESS_ENABLE >>> 0);
      assert.equal(pci_conf_read32(A, PCI_ROM_ADDRESS), 0xffff0000);
      pci_conf_write32(A, PCI_ROM_ADDRESS, 0xfeb00000);
      assert.deepEqual(pci_size_mem_bar(A, PCI_ROM_ADDRESS, false, true), [0x10000n, 1]);
      // the smallest ROM: every address bit from 11 up is writable, bits 10:1 never are
      pci_conf_write32(B2, PCI_ROM_ADDRESS, 0xffffffff);
      assert.equal(pci_conf_read32(B2, PCI_ROM_ADDRESS), 0xfffff801);
      assert.equal(pci_conf_read32(B2, PCI_ROM_ADDRESS) & 0x7fe, 0);
    });

    it('every implemented BAR sizes (Xen\'s algorithm) to the size it was built with; empty and io behave', () => {
      const got: bigint[] = [];
      for (let i = 0; i < 6;) {
        const pos = PCI_BASE_ADDRESS_0 + 4 * i;
        if (pci_conf_read32(A, pos) & PCI_BASE_ADDRESS_SPACE_IO) { got.push(-1n); i++; continue; }
        const [size, n] = pci_size_mem_bar(A, pos, i === 5, false);
        got.push(size);
        i += n;
      }
      assert.deepEqual(got, [BigInt(MiB), BigInt(8 * GiB), -1n, 0n, BigInt(4 * KiB)]);
      pci_conf_write32(A, PCI_BASE_ADDRESS_3, 0xffffffff);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_3), 0xffffffe1, '32-byte io BAR');
      assert.equal(((~(pci_conf_read32(A, PCI_BASE_ADDRESS_3) & PCI_BASE_ADDRESS_IO_MASK)) >>> 0) + 1, 32);
      pci_conf_write32(A, PCI_BASE_ADDRESS_4, 0xffffffff);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_4), 0, 'unimplemented BAR is hardwired to zero');
    });

    it('type, space and prefetch bits are read-only on every write width', () => {
      pci_conf_write32(A, PCI_BASE_ADDRESS_1, 0);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_1), 0xc);
      pci_conf_write8(A, PCI_BASE_ADDRESS_3, 0);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_3), 0xc001);
      pci_conf_write16(A, PCI_BASE_ADDRESS_5, 0);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_5), 0xfebf0008);
    });
  });

  describe('COMMAND and ROM enable', () => {
    it('COMMAND keeps defined bits, reserved bits read 0, STATUS is not disturbed', () => {
      pci_conf_write16(A, PCI_COMMAND, 0xffff);
      assert.equal(pci_conf_read16(A, PCI_COMMAND), 0x07ff);
      pci_conf_write32(A, PCI_COMMAND, 0xffffffff);
      assert.equal(pci_conf_read32(A, PCI_COMMAND), 0x000007ff, 'STATUS is read-only');
      pci_conf_write8(A, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
      assert.equal(pci_conf_read16(A, PCI_COMMAND), 0x0700 | PCI_COMMAND_IO | PCI_COMMAND_MASTER, 'byte write leaves the high byte');
      assert.equal(barDecoding(A, 0), false, 'MEMORY clear: no memory BAR decodes');
    });

    it('the ROM decodes only with both its enable bit and COMMAND.MEMORY', () => {
      assert.equal(barDecoding(A, ROM_SLOT), false);
      pci_conf_write32(A, PCI_ROM_ADDRESS, 0xfeb00000 | PCI_ROM_ADDRESS_ENABLE);
      assert.equal(pci_conf_read32(A, PCI_ROM_ADDRESS) & PCI_ROM_ADDRESS_ENABLE, 1);
      assert.equal(barDecoding(A, ROM_SLOT), true);
      pci_conf_write16(A, PCI_COMMAND, 0);
      assert.equal(barDecoding(A, ROM_SLOT), false);
      assert.equal(pci_conf_read32(A, PCI_ROM_ADDRESS), 0xfeb00001, 'clearing MEMORY leaves the ROM register alone');
      assert.equal(barDecoding(B2, ROM_SLOT), false, 'B2 ROM enabled but B2 not decoding');
      pci_conf_write16(B2, PCI_COMMAND, PCI_COMMAND_MEMORY);
      assert.equal(barDecoding(B2, ROM_SLOT), true);
    });
  });

  describe('Xen access rules', () => {
    it('absent functions read all-ones at every width and drop writes', () => {
      assert.equal(pci_conf_read8(ABSENT, 0), 0xff);
      assert.equal(pci_conf_read16(ABSENT, 0), 0xffff);
      assert.equal(pci_conf_read32(ABSENT, PCI_BASE_ADDRESS_0), 0xffffffff);
      const before = [A, B0, B2, C].map((s) => Array.from({ length: 16 }, (_, i) => pci_conf_read32(s, 4 * i)));
      pci_conf_write32(ABSENT, PCI_COMMAND, 0xffffffff);
      pci_conf_write32(ABSENT, PCI_BASE_ADDRESS_0, 0);
      assert.equal(ecam_write(ECAM_OFFSET(0, 9, 0, PCI_BASE_ADDRESS_0), 4, 0), true, 'allowed access, nobody answers');
      assert.equal(ecam_read(ECAM_OFFSET(0, 9, 0, 0), 4), 0xffffffff);
      assert.equal(ecam_read(ECAM_OFFSET(0, 9, 0, 0), 8), 0xffffffffffffffffn);
      const after = [A, B0, B2, C].map((s) => Array.from({ length: 16 }, (_, i) => pci_conf_read32(s, 4 * i)));
      assert.deepEqual(after, before);
    });

    it('refuses bad sizes, misaligned and out-of-range registers: all-ones read, write dropped', () => {
      assert.equal(pci_conf_read(A, PCI_BASE_ADDRESS_0 + 1, 4), 0xffffffff);
      assert.equal(pci_conf_read(A, PCI_BASE_ADDRESS_0 + 1, 2), 0xffff);
      assert.equal(pci_conf_read(A, PCI_BASE_ADDRESS_0 + 3, 2), 0xffff);
      assert.equal(pci_conf_read(A, PCI_BASE_ADDRESS_0, 3), 0xffffff);
      assert.equal(pci_conf_read(A, PCI_BASE_ADDRESS_0, 8), 0xffffffff);
      assert.equal(pci_conf_read(A, PCI_BASE_ADDRESS_0, 0), 0xffffffff);
      assert.equal(pci_conf_read(A, 4096, 1), 0xff);
      assert.equal(pci_conf_read(A, -4, 4), 0xffffffff);
      assert.equal(pci_conf_read(A, 0.5, 1), 0xff);
      assert.equal(pci_conf_read(A, 4095, 1), 0, 'last byte of extended space is fine');
      for (const [reg, size] of [[PCI_BASE_ADDRESS_0 + 1, 4], [PCI_BASE_ADDRESS_0 + 2, 4], [PCI_BASE_ADDRESS_0 + 1, 2], [PCI_BASE_ADDRESS_0, 3], [PCI_BASE_ADDRESS_0, 8]]) {
        pci_conf_write(A, reg, size, 0);
        assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfe000000, `write reg ${hex(reg)} size ${size} must be dropped`);
      }
      const bar = ECAM_OFFSET(0, 3, 0, PCI_BASE_ADDRESS_0);
      assert.equal(ecam_read(bar + 1, 4), 0xffffffff);
      assert.equal(ecam_read(bar + 4, 8), 0xffffffffffffffffn, '8-byte access at reg % 8 == 4');
      assert.equal(ecam_write(bar + 4, 8, 0n), false);
      assert.equal(ecam_write(bar, 3, 0), false);
      assert.equal(ecam_write(bar + 2, 4, 0), false);
      assert.equal(ecam_read(2 ** 28 + bar, 4), 0xffffffff, 'outside the 256 MiB window');
      assert.equal(ecam_write(2 ** 28 + bar, 4, 0), false);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfe000000);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_2), 4);
    });

    it('registers past the header read zero and ignore writes; scratch bytes are writable', () => {
      for (const reg of [0x40, 0xfc, 0x100, 0xffc]) {
        pci_conf_write32(A, reg, 0xffffffff);
        assert.equal(pci_conf_read32(A, reg), 0, `reg ${hex(reg)}`);
      }
      pci_conf_write8(A, PCI_CAPABILITY_LIST, 0x40);
      assert.equal(pci_conf_read8(A, PCI_CAPABILITY_LIST), 0, 'no capabilities: pointer is read-only 0');
      pci_conf_write8(A, PCI_INTERRUPT_PIN, 1);
      assert.equal(pci_conf_read8(A, PCI_INTERRUPT_PIN), 0);
      pci_conf_write8(A, PCI_INTERRUPT_LINE, 11);
      pci_conf_write8(A, PCI_CACHE_LINE_SIZE, 0x10);
      pci_conf_write8(A, PCI_LATENCY_TIMER, 0x40);
      pci_conf_write8(A, PCI_HEADER_TYPE, 0x81);
      assert.equal(pci_conf_read8(A, PCI_INTERRUPT_LINE), 11);
      assert.equal(pci_conf_read32(A, PCI_CACHE_LINE_SIZE), 0x00004010, 'header type and BIST stay');
      pci_conf_write16(A, PCI_VENDOR_ID, 0x1234);
      assert.equal(pci_conf_read32(A, PCI_VENDOR_ID), 0x100e8086, 'ids are read-only');
    });
  });

  describe('byte and word merges', () => {
    it('builds a dword from four byte writes and a word write without disturbing other bytes', () => {
      // B2's BAR1 is the high dword of a 16 KiB 64-bit BAR: all 32 bits writable
      for (const [i, b] of [0x11, 0x22, 0x33, 0x44].entries()) pci_conf_write8(B2, PCI_BASE_ADDRESS_1 + i, b);
      assert.equal(pci_conf_read32(B2, PCI_BASE_ADDRESS_1), 0x44332211);
      pci_conf_write16(B2, PCI_BASE_ADDRESS_1 + 2, 0xbeef);
      assert.equal(pci_conf_read32(B2, PCI_BASE_ADDRESS_1), 0xbeef2211);
      assert.equal(pci_conf_read16(B2, PCI_BASE_ADDRESS_1 + 2), 0xbeef);
      assert.equal(pci_conf_read8(B2, PCI_BASE_ADDRESS_1 + 1), 0x22);
    });

    it('applies the BAR mask on the byte path: only address bits above the size land', () => {
      pci_conf_write8(A, PCI_BASE_ADDRESS_0 + 2, 0xff); // bits 23:16; a 1 MiB BAR only has 23:20
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfef00000);
      pci_conf_write8(A, PCI_BASE_ADDRESS_0 + 1, 0xff); // bits 15:8, all below the size
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfef00000);
      pci_conf_write16(A, PCI_BASE_ADDRESS_0 + 2, 0xfe20);
      assert.equal(pci_conf_read32(A, PCI_BASE_ADDRESS_0), 0xfe200000);
    });

    it('matches a byte-lane reference model for arbitrary header write sequences (property)', () => {
      // Writable bits, derived independently from F.2/F.4/F.5 for function A.
      const W: Record<number, number> = {
        0x04: 0x000007ff, 0x0c: 0x0000ffff, 0x10: 0xfff00000, 0x14: 0, 0x18: 0xfffffffe, 0x1c: 0xffffffe0,
        0x20: 0, 0x24: 0xfffff000, 0x30: 0xffff0001, 0x3c: 0x000000ff,
      };
      const write = fc.tuple(fc.integer({ min: 0, max: 0x3f }), fc.constantFrom(1, 2, 4), fc.nat({ max: 0xffffffff }));
      fc.assert(fc.property(fc.array(write, { maxLength: 40 }), (ops) => {
        boot();
        const ref = Array.from({ length: 16 }, (_, i) => pci_conf_read32(A, 4 * i));
        for (const [r, size, val] of ops) {
          const reg = r & ~(size - 1);
          pci_conf_write(A, reg, size, val);
          const lanes = size === 4 ? 0xffffffff : ((size === 1 ? 0xff : 0xffff) << ((reg & 3) * 8)) >>> 0;
          const wm = (W[reg & ~3] ?? 0) & lanes;
          const i = reg >> 2;
          ref[i] = ((ref[i] & ~wm) | ((val << ((reg & 3) * 8)) & wm)) >>> 0;
        }
        for (let i = 0; i < 16; i++) assert.equal(pci_conf_read32(A, 4 * i), ref[i], `dword ${hex(4 * i)}`);
      }), { numRuns: 200 });
    });
  });

  describe('ECAM', () => {
    it('decodes offsets as Xen does (F.6 examples)', () => {
      assert.equal(ECAM_OFFSET(0, 3, 0, 0x10), 0x18010);
      assert.equal(ECAM_OFFSET(1, 0, 2, 0x04), 0x102004);
      assert.equal(VPCI_ECAM_BDF(0x18010), 0x0018);
      assert.equal(ECAM_REG_OFFSET(0x18010), 0x10);
      assert.equal(VPCI_ECAM_BDF(0x102004), 0x0102);
      assert.equal(ECAM_REG_OFFSET(0x102004), 0x04);
      assert.equal(VPCI_ECAM_BDF(0x0ffff000), 0xffff);
      const s = PCI_SBDF(0x12, 0xab, 0x1f, 7);
      assert.deepEqual([sbdfSeg(s), sbdfBus(s), sbdfDev(s), sbdfFn(s)], [0x12, 0xab, 0x1f, 7]);
      assert.equal(sbdfName(s), '0012:ab:1f.7');
      assert.equal(PCI_SBDF(0xffff, 0, 0, 0), 0xffff0000, 'sbdf stays unsigned');
      assert.equal(ecam_read(0x18010, 4), pci_conf_read32(A, PCI_BASE_ADDRESS_0));
      assert.equal(ecam_read(0x18010, 4), 0xfe000000);
      assert.equal(ecam_read(0x18000, 2), 0x8086);
      pci_conf_write16(B2, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
      assert.equal(ecam_read(0x102004, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
      assert.equal(ecam_write(0x102004, 1, 0), true);
      assert.equal(pci_conf_read16(B2, PCI_COMMAND), 0);
      assert.equal(ecam_read(0, 4), 0xffffffff, 'segment 1 function C is not in segment 0');
    });

    it('splits an 8-byte access into low then high dword (bigint)', () => {
      const bar0 = ECAM_OFFSET(1, 0, 2, PCI_BASE_ADDRESS_0); // B2: 16 KiB 64-bit BAR at 0xfe100000
      assert.equal(ecam_read(bar0, 8), 0x00000000fe100004n);
      assert.equal(ecam_write(bar0, 8, 0xffffffffffffffffn), true);
      assert.equal(ecam_read(bar0, 8), 0xffffffffffffc004n, 'sizing through one 8-byte access');
      assert.equal(ecam_write(bar0, 8, 0x1_2345_0000n), true);
      assert.equal(pci_conf_read32(B2, PCI_BASE_ADDRESS_0), 0x23450004);
      assert.equal(pci_conf_read32(B2, PCI_BASE_ADDRESS_1), 0x1);
      assert.equal(barAddr(B2, 0), 0x1_2345_0000);
      ecam_write(bar0, 8, 0xfe100000);
      assert.equal(ecam_read(bar0, 8), 0x00000000fe100004n, 'numbers are accepted for 8-byte writes');
    });
  });

  describe('identity of MMIO frames', () => {
    it('lists the frames each decoding memory BAR covers, and follows COMMAND, ROM enable and BAR moves', () => {
      assert.equal(PAGE_SHIFT, 12);
      assert.equal(PFN_DOWN(0xfe0fffff), 0xfe0ff);
      assert.equal(PFN_DOWN(2 ** 40 + 4095), 2 ** 28);
      assert.deepEqual(decodedFrames(A), [
        { sbdf: A, bar: 0, start: 0xfe000, end: 0xfe0ff },
        { sbdf: A, bar: 1, start: PFN_DOWN(16 * GiB), end: PFN_DOWN(24 * GiB - 1) },
        { sbdf: A, bar: 5, start: 0xfebf0, end: 0xfebf0 },
      ]);
      assert.equal(frameOwner(0xfe080), A);
      assert.equal(frameOwner(PFN_DOWN(20 * GiB)), A);
      assert.equal(frameOwner(0xfe100), -1, 'B2 does not decode');
      assert.equal(frameOwner(0xfeb00), -1, 'ROM not enabled');
      pci_conf_write32(A, PCI_ROM_ADDRESS, 0xfeb00001);
      assert.deepEqual(barFrames(A, ROM_SLOT), { sbdf: A, bar: ROM_SLOT, start: 0xfeb00, end: 0xfeb0f });
      assert.equal(frameOwner(0xfeb0f), A);
      pci_conf_write16(A, PCI_COMMAND, 0);
      assert.deepEqual(decodedFrames(A), []);
      pci_conf_write32(A, PCI_BASE_ADDRESS_0, 0xfd000000);
      pci_conf_write16(A, PCI_COMMAND, PCI_COMMAND_MEMORY);
      assert.deepEqual(decodedFrames(A)[0], { sbdf: A, bar: 0, start: 0xfd000, end: 0xfd0ff });
      assert.equal(frameOwner(0xfe080), -1, 'old frames are no longer the device\'s');
      pci_conf_write16(B2, PCI_COMMAND, PCI_COMMAND_MEMORY);
      assert.deepEqual(allDecodedFrames().filter((f) => f.sbdf === B2), [
        { sbdf: B2, bar: 0, start: 0xfe100, end: 0xfe103 },
        { sbdf: B2, bar: ROM_SLOT, start: 0xfeb80, end: 0xfeb80 },
      ]);
      assert.equal(barFrames(A, 3), null, 'io BARs are not MMIO frames');
      assert.equal(barFrames(A, 2), null, 'the high half is part of BAR1');
    });
  });

  describe('machine plumbing', () => {
    it('validates descriptions', () => {
      const f = (bars: PciFunctionDesc['bars'], extra: Partial<PciFunctionDesc> = {}): HwDesc =>
        ({ functions: [{ sbdf: A, vendor: 1, device: 2, bars, ...extra }] });
      const bad: [HwDesc, RegExp][] = [
        [f([null, null, null, null, null, { kind: 'mem64', size: 16, addr: 0 }]), /last slot/],
        [f([{ kind: 'mem32', size: MiB, addr: 0xfe080000 }]), /aligned/],
        [f([{ kind: 'mem32', size: 3000, addr: 0 }]), /power of two/],
        [f([{ kind: 'mem32', size: 8, addr: 0 }]), /power of two/],
        [f([{ kind: 'mem32', size: 4 * GiB, addr: 0 }]), /power of two/],
        [f([{ kind: 'mem32', size: MiB, addr: 2 ** 32 }]), /out of range/],
        [f([null, null, null, null, null, null, null]), /more than 6/],
        [f([null, null, { kind: 'mem64', size: 16, addr: 0 }, null, null, null]), /more than 6/],
        [f([{ kind: 'io', size: 32, addr: 0, prefetchable: true }]), /prefetchable/],
        [f([], { rom: { size: 1024, addr: 0 } }), /ROM/],
        [f([], { vendor: 0xffff }), /vendor/],
        [{ functions: [{ sbdf: A, vendor: 1, device: 2, bars: [] }, { sbdf: A, vendor: 1, device: 3, bars: [] }] }, /twice/],
      ];
      for (const [d, re] of bad) {
        const m = createMachine({ threads: 1, heapWords: 64, regions: { pci: 4096 } });
        assert.throws(() => initHw(m, d), re);
      }
    });

    it('sizes the region, refuses a missing or small one, and initialises once', () => {
      assert.ok(hwWords(DESC) >= DESC.functions.length * 1024);
      assert.deepEqual(hwRegions(DESC), { pci: hwWords(DESC) });
      assert.throws(() => initHw(createMachine({ threads: 1, heapWords: 64 }), DESC), /no 'pci' region/);
      assert.throws(() => initHw(createMachine({ threads: 1, heapWords: 64, regions: { pci: hwWords(DESC) - 1 } }), DESC), /needs/);
      const m = boot();
      assert.throws(() => initHw(m, DESC), /already initialised/);
    });

    it('a thread attached before power-on sees the hardware once it is initialised', () => {
      const m = createMachine({ threads: 1, heapWords: 64, regions: hwRegions(DESC) });
      attach(m);
      assert.equal(pci_conf_read32(A, 0), 0xffffffff, 'nothing there yet');
      initHw(m, DESC);
      assert.equal(pci_conf_read32(A, 0), 0x100e8086);
      const other = boot({ functions: [{ sbdf: A, vendor: 0x1234, device: 0x5678, bars: [] }] });
      assert.equal(pci_conf_read32(A, 0), 0x56781234, 'attaching another machine switches hardware');
      attach(m);
      assert.equal(pci_conf_read32(A, 0), 0x100e8086);
      void other;
    });
  });

  describe('dword atomicity on real threads', function () {
    this.timeout(30_000);
    const worker = new URL('../../fixtures/hw-lanes-worker.js', import.meta.url);

    async function hammer(lanes: { reg: number; size: 1 | 2 }[], iters: number): Promise<LaneResult[]> {
      const machine = boot();
      pci_conf_write32(B2, PCI_BASE_ADDRESS_1, 0);
      const barrier = new SharedArrayBuffer(12);
      const deadline = Date.now() + 20_000;
      const jobs: LaneJob[] = lanes.map((l, cpu) => ({ machine, cpu, sbdf: B2, ...l, iters, overlapTarget: 20_000, softMs: 4_000, barrier, parties: lanes.length, deadline }));
      const res = await runWorkers<LaneResult>(worker, jobs, 25_000);
      for (const r of res) assert.ok(r.started, 'workers met at the start line');
      return res;
    }

    function expectAllLanes(lanes: { reg: number; size: 1 | 2 }[], res: LaneResult[], iters: number): void {
      for (const [i, r] of res.entries()) {
        assert.ok(r.done >= iters, `cpu ${i} did its ${iters} writes within the deadline (did ${r.done})`);
        assert.equal(r.mismatches, 0, `cpu ${i}: its own lane was overwritten ${r.mismatches} times (torn or lost write)`);
      }
      let want = 0;
      lanes.forEach((l, i) => { want |= res[i].last << ((l.reg & 3) * 8); });
      assert.equal(pci_conf_read32(B2, PCI_BASE_ADDRESS_1), want >>> 0, 'final dword holds every lane\'s last write');
      if (availableParallelism() > 1) {
        const seen = res.reduce((n, r) => n + r.otherLaneChanges, 0);
        assert.ok(seen > 0, 'threads really overlapped (other lanes changed under us)');
      }
    }

    it('four threads each writing their own byte of one dword 10^4 times: no torn or lost bytes', async () => {
      const lanes = [0, 1, 2, 3].map((i) => ({ reg: PCI_BASE_ADDRESS_1 + i, size: 1 as const }));
      const iters = 10_000;
      expectAllLanes(lanes, await hammer(lanes, iters), iters);
    });

    it('two threads writing the two halves of one dword with 16-bit writes', async () => {
      const lanes = [0, 2].map((i) => ({ reg: PCI_BASE_ADDRESS_1 + i, size: 2 as const }));
      const iters = 20_000;
      expectAllLanes(lanes, await hammer(lanes, iters), iters);
    });
  });
});
