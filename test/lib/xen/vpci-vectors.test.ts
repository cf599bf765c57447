// Xen's own vPCI unit test (tools/tests/vpci/main.c), table E.2 of xen-vpci-model.md, on both generations
// through the model table (vpci_add_register, vpci_read, vpci_write; removal rules differ: rows 25-28), and
// HEAD's mask rules (rows 12-13 and table E.3: vpci.c:265-324, 539, 573-594).

import assert from 'node:assert/strict';
import { M } from '../../../lib/mem/machine.js';
import { xzalloc } from '../../../lib/mem/heap.js';
import { spin_lock_init } from '../../../lib/sync/spinlock.js';
import { PCI_DEV, VPCI, U32_CELL, EINVAL, ERANGE } from '../../../lib/xen/types.js';
import { XEN, xen, CLASS, set_current } from '../../../lib/xen/state.js';
import { list_add_pdev } from '../../../lib/xen/pci.js';
import { fn } from '../../../lib/xen/fn.js';
import { HANDLER, registerRead, registerWrite } from '../../../lib/xen/handlers.js';
import { boot } from '../../helpers-model.js';
import type { VpciPtr } from '../../../lib/xen/types.js';

const SBDF = (0 << 8) | (0x1f << 3) | 7;  // absent in hardware: reads all-ones, writes dropped (emul.h semantics)
const R8 = HANDLER.user, R16 = HANDLER.user + 1, R32 = HANDLER.user + 2;
const masks: Record<number, number> = { [R8]: 0xff, [R16]: 0xffff, [R32]: 0xffffffff };
// tools/tests/vpci (HEAD): vpci_read32_mask returns the value; vpci_write32_mask keeps the old rw1c bits, then
// clears those written as 1 (the handler implements W1C itself).
const RM = HANDLER.user + 3, WM = HANDLER.user + 3;
registerRead(RM, (_p, _r, cell) => M[cell + U32_CELL.val] >>> 0);
registerWrite(WM, (_p, _r, val, cell) => {
  const rw1c = 0xff00, old = M[cell + U32_CELL.val] >>> 0;
  M[cell + U32_CELL.val] = (((val | (old & rw1c)) & ~(val & rw1c)) >>> 0) | 0;
});
for (const id of [R8, R16, R32]) {
  registerRead(id, (_p, _r, cell) => (M[cell + U32_CELL.val] & masks[id]) >>> 0);
  registerWrite(id, (_p, _r, val, cell) => { M[cell + U32_CELL.val] = val & masks[id]; });
}

for (const [strategy, gen] of [['baseline', 'l21'], ['upstream', 'head']] as const) describe(`vPCI unit-test vectors (tools/tests/vpci, table E.2) on ${gen}`, () => {
  let vpci = 0 as VpciPtr;
  const vpci_add_register = (...a: Parameters<typeof fn.vpci_add_register>): number => fn.vpci_add_register(...a);
  const vpci_read = (sbdf: number, reg: number, size: number): number => fn.vpci_read(sbdf, reg, size);
  const vpci_write = (sbdf: number, reg: number, size: number, val: number): void => fn.vpci_write(sbdf, reg, size, val);
  const cell = (v: number): number => { const c = xzalloc(U32_CELL); M[c] = v; return c; };
  const add = (id: number, off: number, size: number, v: number): number => vpci_add_register(vpci, id, id, off, size, cell(v));
  const read = (reg: number, size: number): number => vpci_read(SBDF, reg, size) >>> 0;
  const write = (reg: number, size: number, val: number): void => vpci_write(SBDF, reg, size, val);
  const writeCheck = (reg: number, size: number, val: number): void => { write(reg, size, val); assert.equal(read(reg, size), val >>> 0); };

  before(() => {
    const { world } = boot({ strategy });
    const d = world.domains[0];
    set_current(world.vcpus[0][0]);
    const pdev = xzalloc(PCI_DEV);
    M[pdev + PCI_DEV.sbdf] = SBDF;
    M[pdev + PCI_DEV.alldevs_next] = M[xen(XEN.alldevs_list)];
    M[xen(XEN.alldevs_list)] = pdev;
    list_add_pdev(d, pdev);
    vpci = xzalloc(VPCI);
    spin_lock_init(vpci + VPCI.lock, CLASS.vpci_lock);
    M[pdev + PCI_DEV.vpci] = vpci;
  });

  it('1-2: a 32-bit register reads and writes back', () => {
    assert.equal(add(R32, 0, 4, 0xdeadbeef), 0);
    assert.equal(read(0, 4), 0xdeadbeef);
    writeCheck(0, 4, 0xbcbcbcbc);
  });
  it('3-5: byte registers at 5, 6, 7', () => {
    assert.equal(add(R8, 5, 1, 0xef), 0); assert.equal(read(5, 1), 0xef); writeCheck(5, 1, 0xba);
    assert.equal(add(R8, 6, 1, 0xbe), 0); assert.equal(read(6, 1), 0xbe); writeCheck(6, 1, 0xba);
    assert.equal(add(R8, 7, 1, 0xef), 0); assert.equal(read(7, 1), 0xef); writeCheck(7, 1, 0xbd);
  });
  it('6-7: a 16-bit register and an access running past it into an unhandled gap', () => {
    assert.equal(add(R16, 12, 2, 0x8696), 0);
    assert.equal(read(12, 2), 0x8696);
    assert.equal(read(12, 4), 0xffff8696);
  });
  it('8-11: invalid registrations are refused', () => {
    assert.notEqual(add(R32, 4, 4, 0), 0);                       // overlaps 5..7
    assert.notEqual(add(R16, 15, 2, 0), 0);                      // misaligned
    assert.notEqual(add(R32, 8, 3, 0), 0);                       // bad size
    assert.notEqual(vpci_add_register(vpci, HANDLER.none, HANDLER.none, 8, 2, 0), 0); // no callbacks
  });
  it('14-15: unhandled space goes to hardware (all-ones, writes dropped)', () => {
    assert.equal(read(8, 4), 0xffffffff); assert.equal(read(8, 2), 0xffff); assert.equal(read(8, 1), 0xff);
    write(10, 2, 0xbeef);
    assert.equal(read(10, 2), 0xffff);
  });
  it('16-21: partial and spanning accesses merge with Xen\'s rules', () => {
    writeCheck(7, 1, 0xbd);
    assert.equal(read(4, 4), 0xbdbabaff);
    writeCheck(0, 4, 0x1a1b1c1d);
    assert.equal(read(2, 1), 0x1b);
    assert.equal(read(6, 2), 0xbdba);
    writeCheck(4, 4, 0xaabbccff);                                // byte 4 dropped: reads 0xff anyway
    writeCheck(2, 1, 0xfe);
    assert.equal(read(0, 4), 0x1afe1c1d);                        // read-merge-write of r0
    writeCheck(6, 2, 0xfebc);
  });
  it('22-23: multi-size accesses over byte, halfword and dword registers', () => {
    for (const o of [16, 17, 18, 19]) assert.equal(add(R8, o, 1, 0), 0);
    assert.equal(add(R16, 20, 2, 0), 0); assert.equal(add(R16, 22, 2, 0), 0); assert.equal(add(R32, 24, 4, 0), 0);
    for (let o = 16; o < 28; o++) assert.equal(read(o, 1), 0);
    for (const base of [16, 20, 24]) {
      const steps: Array<[number, number]> = [[0xa2f51732, 1], [0x2b836fda, 2], [0xc4693beb, 4]];
      for (const [val, w] of steps) {
        for (let i = 0; i < 4; i += w) write(base + i, w, (val >>> (8 * i)) & (w === 4 ? 0xffffffff : (1 << (8 * w)) - 1));
        for (let i = 0; i < 4; i++) assert.equal(read(base + i, 1), (val >>> (8 * i)) & 0xff);
        assert.equal(read(base, 2), val & 0xffff); assert.equal(read(base + 2, 2), val >>> 16);
        assert.equal(read(base, 4), val >>> 0);
      }
    }
  });
  it('24: a dword write over registers with gaps', () => {
    assert.equal(add(R8, 28, 1, 0), 0); assert.equal(add(R8, 30, 1, 0), 0);
    writeCheck(28, 4, 0xffacffdc);
  });
  if (gen === 'l21') it('25-26: L21 removal needs an exact offset and size', () => {
    assert.equal(fn.vpci_remove_register(vpci, 28, 1), 0);
    assert.equal(fn.vpci_remove_register(vpci, 24, 4), 0);
    assert.equal(fn.vpci_remove_register(vpci, 12, 2), 0);
    assert.notEqual(fn.vpci_remove_register(vpci, 20, 1), 0);
    assert.notEqual(fn.vpci_remove_register(vpci, 16, 2), 0);
    assert.notEqual(fn.vpci_remove_register(vpci, 30, 2), 0);
  });
  if (gen === 'head') it('25, 27-28: HEAD removes every register inside the range, -ERANGE on a straddler (vpci.c:334-364)', () => {
    assert.equal(fn.vpci_remove_registers(vpci, 28, 1), 0);
    assert.equal(fn.vpci_remove_registers(vpci, 24, 4), 0);
    assert.equal(fn.vpci_remove_registers(vpci, 12, 2), 0);
    assert.equal(fn.vpci_remove_registers(vpci, 16, 2), 0);     // r16 and r17
    assert.equal(read(16, 2), 0xffff, 'gone: hardware answers');
    assert.equal(fn.vpci_remove_registers(vpci, 30, 2), 0);
    assert.equal(fn.vpci_remove_registers(vpci, 20, 1), ERANGE);  // the 2-byte register at 20 straddles
  });
  if (gen === 'head') it('12-13: HEAD refuses a bit in two masks, and masks wider than the register (vpci.c:275-285)', () => {
    const pairs: Array<[number, number]> = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]];
    for (const [a, b] of pairs) {
      const m = [0, 0, 0, 0]; m[a] = 1; m[b] = 1;
      assert.equal(fn.vpci_add_register_mask(vpci, R32, R32, 8, 4, cell(0), m[0], m[1], m[2], m[3]), EINVAL, `masks ${a},${b}`);
    }
    for (let k = 0; k < 4; k++) {
      const m1 = [0, 0, 0, 0]; m1[k] = 0x100;
      const m2 = [0, 0, 0, 0]; m2[k] = 0x10000;
      assert.equal(fn.vpci_add_register_mask(vpci, R8, R8, 8, 1, cell(0), m1[0], m1[1], m1[2], m1[3]), EINVAL);
      assert.equal(fn.vpci_add_register_mask(vpci, R16, R16, 8, 2, cell(0), m2[0], m2[1], m2[2], m2[3]), EINVAL);
    }
  });
  if (gen === 'head') describe('E.3: mask vectors (a3c8fb450a), register at 32: ro 0xff, rw1c 0xff00, rsvdp 0xff0000, rsvdz 0xff000000', () => {
    let c = 0;
    before(() => { c = cell(0); assert.equal(fn.vpci_add_register_mask(vpci, RM, WM, 32, 4, c, 0xff, 0xff00, 0xff0000, 0xff000000), 0); });
    beforeEach(() => { M[c + U32_CELL.val] = 0x0f0f0f0f; });
    const backing = (): number => M[c + U32_CELL.val] >>> 0;
    const cases: Array<[string, number, number, number, number[], number]> = [
      ['ro', 32, 1, 0x5a, [0x0f, 0x0f], 0x000f0f0f],
      ['rw1c', 33, 1, 0x5a, [0x0f, 0x05], 0x000f050f],
      ['rsvdp', 34, 1, 0x5a, [0x00, 0x00], 0x000f0f0f],
      ['rsvdz', 35, 1, 0x5a, [0x00, 0x00], 0x000f0f0f],
      ['all 0', 32, 4, 0, [0x00000f0f, 0x00000f0f], 0x000f0f0f],
      ['all 1', 32, 4, 0xffffffff, [0x00000f0f, 0x0000000f], 0x000f000f],
    ];
    for (const [name, reg, size, val, reads, after] of cases) it(name, () => {
      assert.equal(read(reg, size), reads[0]);
      write(reg, size, val);
      assert.equal(read(reg, size), reads[1]);
      assert.equal(backing(), after);
    });
  });
});
