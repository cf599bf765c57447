// The terminal state of a run, as one digest: the contents of every live heap object (at its address: allocation
// order is part of the state), the hypervisor's globals, every p2m, the hardware config space. Two runs that are
// the same trace up to reordering of independent steps end in the same digest, which is what lets the reduced and
// the unreduced search be compared state for state.

import { CTL, M, LAYOUT } from '../mem/machine.js';

const LIVE = 1;
const REGIONS = ['xen', 'p2m', 'pci'];

export function stateDigest(extra: string): string {
  let a = 0x811c9dc5 | 0, b = 0x01000193 | 0;
  const mix = (v: number): void => {
    a = Math.imul(a ^ v, 16777619);
    b = Math.imul(b ^ (v >>> 16) ^ (v << 16), 0x5bd1e995) ^ (b >>> 13);
  };
  const heap = LAYOUT.heap;
  const bump = M[CTL.HEAP_BUMP];
  for (let p = heap.base + 2; p < bump;) {
    const size = M[p - 1];
    if (size <= 0) break;
    if ((M[p - 2] & 0xff) === LIVE) {
      mix(p); mix(M[p - 2]);
      for (let i = 0; i < size; i++) mix(M[p + i]);
    }
    p += size + 2;
  }
  for (const name of REGIONS) {
    const r = LAYOUT.regions[name];
    if (!r) continue;
    for (let i = 0; i < r.words; i++) mix(M[r.base + i]);
  }
  for (let i = 0; i < extra.length; i++) mix(extra.charCodeAt(i));
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
