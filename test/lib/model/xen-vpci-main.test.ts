// Xen's own vPCI unit test, tools/tests/vpci/main.c, expressed through the public `vpci-lab/model` entry alone
// (nothing else of the lab is imported here), assertion by assertion: main.c at 4ed7d5525f (late 2021) against the
// l21 generation, main.c at c447b7308b (HEAD) against head, and the part the two share against both. emul.h's
// world is bootModel's: one domain, one vCPU as `current`, one pci_dev whose struct vpci has no handlers (a bare
// device), absent in the hardware, so unhandled accesses read all-ones and writes vanish (emul.h's pci_conf_*).
// Each C `assert` is one `check` here; the counts per generation are printed and pinned.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootModel, callModel, defineStruct, xzalloc, M, NULL, type Harness, type ReadHandler, type WriteHandler } from 'vpci-lab/model';

// Storage: main.c's uint8_t / uint16_t / uint32_t locals and struct mask_data, one heap object each.
const U8 = defineStruct('main_c_u8', { v: 1 });
const MASK_DATA = defineStruct('mask_data', { val: 1, rw1c_mask: 1 });

// main.c's dummy hooks: write stores data, read fetches it (the cast in C is the mask here).
const vpci_read8: ReadHandler = (_p, _r, data) => M[data] & 0xff;
const vpci_write8: WriteHandler = (_p, _r, val, data) => { M[data] = val & 0xff; };
const vpci_read16: ReadHandler = (_p, _r, data) => M[data] & 0xffff;
const vpci_write16: WriteHandler = (_p, _r, val, data) => { M[data] = val & 0xffff; };
const vpci_read32: ReadHandler = (_p, _r, data) => M[data] >>> 0;
const vpci_write32: WriteHandler = (_p, _r, val, data) => { M[data] = val | 0; };
const vpci_read32_mask: ReadHandler = (_p, _r, md) => M[md + MASK_DATA.val] >>> 0;
const vpci_write32_mask: WriteHandler = (_p, _r, val, md) => {
  M[md + MASK_DATA.val] = (val | (M[md + MASK_DATA.val] & M[md + MASK_DATA.rw1c_mask])) | 0;
  M[md + MASK_DATA.val] &= ~(val & M[md + MASK_DATA.rw1c_mask]);
};

/** One run of main.c: its macros over a harness, counting every assert. */
class MainC {
  asserts = 0;
  readonly vpci: ReturnType<Harness['bareDevice']>['vpci'];
  constructor(readonly h: Harness, readonly gen: 'l21' | 'head') { this.vpci = h.bareDevice({ sbdf: 0 }).vpci; }
  check(ok: boolean, what: string): void { this.asserts++; assert.ok(ok, `${this.gen}, assert ${this.asserts}: ${what}`); }
  store(v = 0): number { const p = xzalloc(U8); M[p] = v; return p; }
  READ(reg: number, size: number): number { return callModel('vpci_read', 0, reg, size) >>> 0; }
  READ_CHECK(reg: number, size: number, want: number): void {
    const rd = this.READ(reg, size);
    this.check(rd === want >>> 0, `VPCI_READ_CHECK(${reg}, ${size}, 0x${(want >>> 0).toString(16)}): read 0x${rd.toString(16)}`);
  }
  WRITE(reg: number, size: number, data: number): void { callModel('vpci_write', 0, reg, size, data >>> 0); }
  WRITE_CHECK(reg: number, size: number, data: number): void { this.WRITE(reg, size, data); this.READ_CHECK(reg, size, data); }
  ADD_REG(r: ReadHandler | null, w: WriteHandler | null, off: number, size: number, store: number): void {
    this.check(this.h.addRegister(this.vpci, r, w, off, size, store) === 0, `VPCI_ADD_REG(${off}, ${size})`);
  }
  ADD_INVALID_REG(r: ReadHandler | null, w: WriteHandler | null, off: number, size: number): void {
    this.check(this.h.addRegister(this.vpci, r, w, off, size, NULL) !== 0, `VPCI_ADD_INVALID_REG(${off}, ${size})`);
  }
  ADD_REG_MASK(r: ReadHandler, w: WriteHandler, off: number, size: number, store: number, ro: number, rw1c: number, rsvdp: number, rsvdz: number): void {
    this.check(this.h.addRegister(this.vpci, r, w, off, size, store, { ro, rw1c, rsvdp, rsvdz }) === 0, `VPCI_ADD_REG_MASK(${off}, ${size})`);
  }
  ADD_INVALID_REG_MASK(r: ReadHandler, w: WriteHandler, off: number, size: number, ro: number, rw1c: number, rsvdp: number, rsvdz: number): void {
    this.check(this.h.addRegister(this.vpci, r, w, off, size, NULL, { ro, rw1c, rsvdp, rsvdz }) !== 0, `VPCI_ADD_INVALID_REG_MASK(${off}, ${size}, ${ro}, ${rw1c}, ${rsvdp}, ${rsvdz})`);
  }
  /** L21: vpci_remove_register; HEAD: vpci_remove_registers (8623318157). */
  remove(off: number, size: number): number {
    return this.gen === 'l21' ? callModel('vpci_remove_register', this.vpci, off, size) : callModel('vpci_remove_registers', this.vpci, off, size);
  }
  REMOVE_REG(off: number, size: number): void { this.check(this.remove(off, size) === 0, `VPCI_REMOVE_REG(${off}, ${size})`); }
  REMOVE_INVALID_REG(off: number, size: number): void { this.check(this.remove(off, size) !== 0, `VPCI_REMOVE_INVALID_REG(${off}, ${size})`); }
  multiread4_check(reg: number, val: number): void {
    for (let i = 0; i < 4; i++) this.READ_CHECK(reg + i, 1, (val >>> (i * 8)) & 0xff);
    for (let i = 0; i < 2; i++) this.READ_CHECK(reg + i * 2, 2, (val >>> (i * 2 * 8)) & 0xffff);
    this.READ_CHECK(reg, 4, val);
  }
  multiwrite4_check(reg: number): void {
    let val = 0xa2f51732;
    for (let i = 0; i < 4; i++) this.WRITE_CHECK(reg + i, 1, (val >>> (i * 8)) & 0xff);
    this.multiread4_check(reg, val);
    val = 0x2b836fda;
    for (let i = 0; i < 2; i++) this.WRITE_CHECK(reg + i * 2, 2, (val >>> (i * 2 * 8)) & 0xffff);
    this.multiread4_check(reg, val);
    val = 0xc4693beb;
    this.WRITE_CHECK(reg, 4, val);
    this.multiread4_check(reg, val);
  }
}

/** main.c from the start to the end of the gap test (identical in both versions but for HEAD's mask block). */
function registersAndAccesses(t: MainC, withMaskRefusals: boolean): void {
  const r0 = t.store(0xdeadbeef), r5 = t.store(0xef), r6 = t.store(0xbe), r7 = t.store(0xef), r12 = t.store(0x8696);
  const r16 = [t.store(), t.store(), t.store(), t.store()], r20 = [t.store(), t.store()], r24 = t.store(), r28 = t.store(), r30 = t.store();
  t.ADD_REG(vpci_read32, vpci_write32, 0, 4, r0);
  t.READ_CHECK(0, 4, M[r0]);
  t.WRITE_CHECK(0, 4, 0xbcbcbcbc);
  t.ADD_REG(vpci_read8, vpci_write8, 5, 1, r5);
  t.READ_CHECK(5, 1, M[r5]);
  t.WRITE_CHECK(5, 1, 0xba);
  t.ADD_REG(vpci_read8, vpci_write8, 6, 1, r6);
  t.READ_CHECK(6, 1, M[r6]);
  t.WRITE_CHECK(6, 1, 0xba);
  t.ADD_REG(vpci_read8, vpci_write8, 7, 1, r7);
  t.READ_CHECK(7, 1, M[r7]);
  t.WRITE_CHECK(7, 1, 0xbd);
  t.ADD_REG(vpci_read16, vpci_write16, 12, 2, r12);
  t.READ_CHECK(12, 2, M[r12]);
  t.READ_CHECK(12, 4, 0xffff8696);
  t.ADD_INVALID_REG(vpci_read32, vpci_write32, 4, 4);   // overlapping
  t.ADD_INVALID_REG(vpci_read16, vpci_write16, 15, 2);  // not aligned
  t.ADD_INVALID_REG(vpci_read16, vpci_write16, 8, 3);   // wrong size
  t.ADD_INVALID_REG(null, null, 8, 2);                  // missing handlers
  if (withMaskRefusals) {
    // HEAD: the same bits set in two masks, and mask bits beyond the register's size.
    for (const [ro, rw1c, rsvdp, rsvdz] of [[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1], [0, 0, 1, 1]]) {
      t.ADD_INVALID_REG_MASK(vpci_read32, vpci_write32, 8, 4, ro, rw1c, rsvdp, rsvdz);
    }
    for (let k = 0; k < 4; k++) { const m = [0, 0, 0, 0]; m[k] = 0x100; t.ADD_INVALID_REG_MASK(vpci_read8, vpci_write8, 8, 1, m[0], m[1], m[2], m[3]); }
    for (let k = 0; k < 4; k++) { const m = [0, 0, 0, 0]; m[k] = 0x10000; t.ADD_INVALID_REG_MASK(vpci_read16, vpci_write16, 8, 2, m[0], m[1], m[2], m[3]); }
  }
  t.READ_CHECK(8, 4, 0xffffffff);                       // unset register
  t.READ_CHECK(8, 2, 0xffff);
  t.READ_CHECK(8, 1, 0xff);
  t.WRITE(10, 2, 0xbeef);
  t.READ_CHECK(10, 2, 0xffff);
  t.WRITE_CHECK(7, 1, 0xbd);                            // read of multiple registers
  t.READ_CHECK(4, 4, 0xbdbabaff);
  t.WRITE_CHECK(0, 4, 0x1a1b1c1d);                      // partial read of a register
  t.READ_CHECK(2, 1, 0x1b);
  t.READ_CHECK(6, 2, 0xbdba);
  t.WRITE_CHECK(4, 4, 0xaabbccff);                      // write of multiple registers
  t.WRITE_CHECK(2, 1, 0xfe);                            // partial write of a register
  t.WRITE_CHECK(6, 2, 0xfebc);
  for (let i = 0; i < 4; i++) t.ADD_REG(vpci_read8, vpci_write8, 16 + i, 1, r16[i]);
  t.ADD_REG(vpci_read16, vpci_write16, 20, 2, r20[0]);
  t.ADD_REG(vpci_read16, vpci_write16, 22, 2, r20[1]);
  t.ADD_REG(vpci_read32, vpci_write32, 24, 4, r24);
  t.multiread4_check(16, 0);
  t.multiread4_check(20, 0);
  t.multiread4_check(24, 0);
  t.multiwrite4_check(16);
  t.multiwrite4_check(20);
  t.multiwrite4_check(24);
  t.ADD_REG(vpci_read8, vpci_write8, 28, 1, r28);       // non-consecutive gaps in one access
  t.ADD_REG(vpci_read8, vpci_write8, 30, 1, r30);
  t.WRITE_CHECK(28, 4, 0xffacffdc);
}

/** HEAD's ro / rw1c / rsvdp / rsvdz block (main.c:341-397 at c447b7308b). */
function masks(t: MainC): void {
  const r32 = xzalloc(MASK_DATA);
  const val = (): number => M[r32 + MASK_DATA.val] >>> 0;
  const set = (v: number): void => { M[r32 + MASK_DATA.val] = v | 0; };
  M[r32 + MASK_DATA.rw1c_mask] = 0x0000ff00;
  t.ADD_REG_MASK(vpci_read32_mask, vpci_write32_mask, 32, 4, r32, 0x000000ff, M[r32 + MASK_DATA.rw1c_mask], 0x00ff0000, 0xff000000);
  const byte = (reg: number, before: number, after: number, stored: number): void => {
    set(0x0f0f0f0f);
    t.READ_CHECK(reg, 1, before);
    t.WRITE(reg, 1, 0x5a);
    t.READ_CHECK(reg, 1, after);
    t.check(val() === stored, `r32.val == 0x${stored.toString(16)} (was 0x${val().toString(16)})`);
  };
  byte(32, 0x0f, 0x0f, 0x000f0f0f);                     // ro
  byte(33, 0x0f, 0x05, 0x000f050f);                     // rw1c
  byte(34, 0, 0, 0x000f0f0f);                           // rsvdp
  byte(35, 0, 0, 0x000f0f0f);                           // rsvdz
  const dword = (write: number, after: number, stored: number): void => {
    set(0x0f0f0f0f);
    t.READ_CHECK(32, 4, 0x00000f0f);
    t.WRITE(32, 4, write);
    t.READ_CHECK(32, 4, after);
    t.check(val() === stored, `r32.val == 0x${stored.toString(16)} (was 0x${val().toString(16)})`);
  };
  dword(0, 0x00000f0f, 0x000f0f0f);                     // write all 0's
  dword(0xffffffff, 0x0000000f, 0x000f000f);            // write all 1's
}

const counts: Record<string, number> = {};

describe("Xen's tools/tests/vpci/main.c through vpci-lab/model alone", () => {
  after(() => {
    process.stdout.write(`      main.c assertions: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
  });

  it('main.c at 4ed7d5525f on the l21 generation: every assert holds', () => {
    const t = new MainC(bootModel({ strategy: 'l21' }), 'l21');
    registersAndAccesses(t, false);
    t.REMOVE_REG(28, 1);
    t.REMOVE_REG(24, 4);
    t.REMOVE_REG(12, 2);
    t.REMOVE_INVALID_REG(20, 1);
    t.REMOVE_INVALID_REG(16, 2);
    t.REMOVE_INVALID_REG(30, 2);
    counts['4ed7d5525f on l21'] = t.asserts;
    t.h.release();
    assert.equal(t.asserts, 152, 'every assert of main.c at 4ed7d5525f ran');
  });

  it('main.c at c447b7308b on the head generation: every assert holds', () => {
    const t = new MainC(bootModel({ strategy: 'head' }), 'head');
    registersAndAccesses(t, true);
    masks(t);
    t.REMOVE_REG(28, 1);
    t.REMOVE_REG(24, 4);
    t.REMOVE_REG(12, 2);
    t.REMOVE_REG(16, 2);
    t.REMOVE_REG(30, 2);
    t.REMOVE_INVALID_REG(20, 1);
    counts['c447b7308b on head'] = t.asserts;
    t.h.release();
    assert.equal(t.asserts, 185, 'every assert of main.c at c447b7308b ran');
  });

  it('the asserts both versions share (all but the removals and the masks) hold on both generations', () => {
    for (const gen of ['l21', 'head'] as const) {
      const t = new MainC(bootModel({ strategy: gen }), gen);
      registersAndAccesses(t, false);
      counts[`shared on ${gen}`] = t.asserts;
      t.h.release();
      assert.equal(t.asserts, 146);
    }
  });

  it('imports nothing of the lab but vpci-lab/model', () => {
    const src = fs.readFileSync(fileURLToPath(new URL('../../../../test/lib/model/xen-vpci-main.test.ts', import.meta.url)), 'utf8');
    const froms = [...src.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    assert.deepEqual(froms.filter((f) => !f.startsWith('node:')), ['vpci-lab/model']);
  });
});
