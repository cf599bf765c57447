// Model pointers are branded (lib/mem/layout.ts Ptr): passing a pdev where a vcpu is expected does not compile.
// The wrong calls below are marked @ts-expect-error, so `npm run build` (tsc, strict) fails the day one of them
// compiles: that is this file's real assertion. At run time a pointer is still a plain number.

import assert from 'node:assert/strict';
import { fn } from '../../../lib/xen/fn.js';
import { chk, NULL } from '../../../lib/mem/heap.js';
import { createMachine, attach } from '../../../lib/mem/machine.js';
import { xzalloc } from '../../../lib/mem/heap.js';
import { PCI_DEV, VCPU, type PciDevPtr, type VcpuPtr, type DomainPtr } from '../../../lib/xen/types.js';

/** Never called: only compiled. */
export function wrongCalls(pdev: PciDevPtr, v: VcpuPtr, d: DomainPtr, word: number): void {
  // @ts-expect-error a pdev where a vcpu is expected
  fn.vpci_process_pending(pdev);
  // @ts-expect-error a vcpu where a pdev is expected
  fn.vpci_remove_device(v);
  // @ts-expect-error a domain where a pdev is expected
  fn.free_pdev(d);
  // @ts-expect-error a word read from memory: say what it points to first (chk, or a cast where the model knows)
  fn.vpci_deassign_device(word);
  // @ts-expect-error chk names the struct it checked: a checked pdev is no vcpu
  const notVcpu: VcpuPtr = chk(word, PCI_DEV, 'wrongCalls');
  void notVcpu;
  // The right ones compile: the slot's own type, a checked word, NULL for any struct.
  fn.vpci_process_pending(v);
  fn.vpci_remove_device(chk(word, PCI_DEV, 'wrongCalls'));
  fn.vpci_deassign_device(NULL);
  fn.assign_device(d, 0);
}

describe('branded model pointers', () => {
  it('are plain numbers at run time: allocation and chk hand back the same word index', () => {
    attach(createMachine({ threads: 1, heapWords: 1 << 10 }), 0);
    const v: VcpuPtr = xzalloc(VCPU);
    assert.equal(typeof v, 'number');
    assert.ok(v > 0);
    assert.equal(chk(v, VCPU, 'test'), v);
    assert.equal(typeof wrongCalls, 'function');
  });
});
