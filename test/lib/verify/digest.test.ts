// The terminal-state digest compares runs across processes and buffers (verify's --jobs shards, the soundness
// bench's searches): the C backend's absolute pointers, into the machine or into its own code, must not make the
// same state digest differently where the buffer or the addon was loaded at another address.

import assert from 'node:assert/strict';
import { M, CTL, LAYOUT } from '../../../lib/mem/machine.js';
import { xzalloc_words } from '../../../lib/mem/heap.js';
import { defineStruct } from '../../../lib/mem/layout.js';
import { stateDigest } from '../../../lib/verify/digest.js';
import { boot } from '../../helpers-model.js';

const BLOCK = defineStruct('digest_test', { a: 1, b: 1, c: 1, d: 1 });
const put = (at: number, v: number): void => { M[at] = v % 2 ** 32 | 0; M[at + 1] = Math.floor(v / 2 ** 32); };

describe('state digest', () => {
  it('reads C pointers (data and code) relative to where this process has the buffer and the addon', () => {
    boot();
    const p = xzalloc_words(BLOCK, 4);
    const target = 1234;                                    // a word of the machine the C struct points to
    const at = (base: number, code: number): string => {
      put(CTL.NATIVE_BASE, base); put(CTL.NATIVE_CODE, code);
      put(p, base + 4 * target);                            // struct field 0: a pointer into the machine
      put(p + 2, code + 0x4560);                            // field 1: a handler's address
      return stateDigest('x');
    };
    const here = at(0x7f12_3450_0000, 0x7f55_0000_1000);
    assert.equal(at(0x7e00_0000_8000, 0x7fa0_2000_0000), here, 'the same state, loaded elsewhere');
    assert.notEqual((() => { put(CTL.NATIVE_BASE, 0x7e00_0000_8000); put(p, 0x7e00_0000_8000 + 4 * (target + 1)); return stateDigest('x'); })(), here,
      'a pointer to another word is another state');
    put(CTL.NATIVE_BASE, 0); put(CTL.NATIVE_CODE, 0);
    put(p, 0x7f12_3450_0000 + 4 * target);
    const plain = stateDigest('x');
    put(p, 0x7e00_0000_8000 + 4 * target);
    assert.notEqual(stateDigest('x'), plain, 'without the C backend (no base recorded) every word counts as it is');
  });

  it('a region changed since an earlier digest of the same heap digests as a fresh hash would (kept copies are compared, not trusted)', () => {
    boot();
    put(CTL.NATIVE_BASE, 0); put(CTL.NATIVE_CODE, 0);
    const pci = LAYOUT.regions.pci, w = pci.base + 7, was = M[w];
    const first = stateDigest('x');
    assert.equal(stateDigest('x'), first, 'the same state again');
    M[w] = was ^ 0x5a5a;
    const changed = stateDigest('x');
    assert.notEqual(changed, first, 'one config-space word differs');
    M[w] = was;
    assert.equal(stateDigest('x'), first, 'and back');
    M[w] = was ^ 0x5a5a;
    assert.equal(stateDigest('x'), changed, 'both contents kept for the same heap');
    M[w] = was;
  });

  it('copies of one heap\'s regions that differ in a few words: each content digests as its own, whichever words were compared first', () => {
    boot();
    put(CTL.NATIVE_BASE, 0); put(CTL.NATIVE_CODE, 0);
    const { pci, p2m } = LAYOUT.regions;
    const words = [pci.base + 3, p2m.base + 100, pci.base + 9], was = words.map((w) => M[w]);
    const as = (changed: number[]): string => {
      words.forEach((w, k) => { M[w] = changed.includes(k) ? was[k] ^ 0x77 : was[k]; });
      return stateDigest('x');
    };
    // The first three teach the kept copies' first differences (words 0 and 1); the last changes a word none
    // of them differs in, so it agrees with the unchanged copy wherever those are compared first.
    const contents = [[], [0], [1], [0, 1], [2]];
    const first = contents.map(as);
    assert.equal(new Set(first).size, contents.length, 'five contents, five digests');
    for (const k of [4, 2, 0, 3, 1, 4, 0]) assert.equal(as(contents[k]), first[k], `content ${k} again`);
    as([]);
  });
});
