// Xen's own vPCI unit test (tools/tests/vpci/main.c), table E.2 of xen-vpci-model.md, late-2021 removal rules,
// run against the model's vpci_add_register / vpci_remove_register / vpci_read / vpci_write.

import assert from 'node:assert/strict';
import { M } from '../lib/mem/machine.js';
import { xzalloc } from '../lib/mem/heap.js';
import { spin_lock_init } from '../lib/sync/spinlock.js';
import { PCI_DEV, VPCI, U32_CELL } from '../lib/xen/types.js';
import { XEN, xen, CLASS, set_current } from '../lib/xen/state.js';
import { list_add_pdev } from '../lib/xen/pci.js';
import { vpci_add_register, vpci_remove_register, vpci_read, vpci_write } from '../lib/xen/l21/vpci.js';
import { H, registerRead, registerWrite } from '../lib/xen/handlers.js';
import { boot } from './helpers-model.js';

const SBDF = (0 << 8) | (0x1f << 3) | 7;  // absent in hardware: reads all-ones, writes dropped (emul.h semantics)
const R8 = H.user, R16 = H.user + 1, R32 = H.user + 2;
const masks: Record<number, number> = { [R8]: 0xff, [R16]: 0xffff, [R32]: 0xffffffff };
for (const id of [R8, R16, R32]) {
  registerRead(id, (_p, _r, cell) => (M[cell + U32_CELL.val] & masks[id]) >>> 0);
  registerWrite(id, (_p, _r, val, cell) => { M[cell + U32_CELL.val] = val & masks[id]; });
}

describe('vPCI unit-test vectors (tools/tests/vpci, table E.2)', () => {
  let vpci = 0;
  const cell = (v: number): number => { const c = xzalloc(U32_CELL); M[c] = v; return c; };
  const add = (id: number, off: number, size: number, v: number): number => vpci_add_register(vpci, id, id, off, size, cell(v));
  const read = (reg: number, size: number): number => vpci_read(SBDF, reg, size) >>> 0;
  const write = (reg: number, size: number, val: number): void => vpci_write(SBDF, reg, size, val);
  const writeCheck = (reg: number, size: number, val: number): void => { write(reg, size, val); assert.equal(read(reg, size), val >>> 0); };

  before(() => {
    const { world } = boot();
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
    assert.notEqual(vpci_add_register(vpci, H.none, H.none, 8, 2, 0), 0); // no callbacks
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
  it('25-26: L21 removal needs an exact offset and size', () => {
    assert.equal(vpci_remove_register(vpci, 28, 1), 0);
    assert.equal(vpci_remove_register(vpci, 24, 4), 0);
    assert.equal(vpci_remove_register(vpci, 12, 2), 0);
    assert.notEqual(vpci_remove_register(vpci, 20, 1), 0);
    assert.notEqual(vpci_remove_register(vpci, 16, 2), 0);
    assert.notEqual(vpci_remove_register(vpci, 30, 2), 0);
  });
});
