// The terminal state of a run, as one digest: the contents of every live heap object (at its address: allocation
// order is part of the state), the hypervisor's globals, every p2m, the hardware config space. Two runs that are
// the same trace up to reordering of independent steps end in the same digest, which is what lets the reduced and
// the unreduced search be compared state for state.

import { CTL, M, LAYOUT } from '../mem/machine.js';

const LIVE = 1;
const REGIONS = ['xen', 'p2m', 'pci'];

/** Where the C backend sees word 0, or its own code (0 when no C ran on this machine): its pointers are absolute. */
function native(at: number): number {
  return M[at + 1] * 2 ** 32 + (M[at] >>> 0);
}

/** The C backend's code is within this distance of its anchor (the addon is a few MB). */
const CODE_SPAN = 64 << 20;

/** The two running hashes, between the loops below (each keeps them in locals: a run hashes thousands of words). */
let A = 0, B = 0;

function mix(v: number): void {
  A = Math.imul(A ^ v, 16777619);
  B = Math.imul(B ^ (v >>> 16) ^ (v << 16), 0x5bd1e995) ^ (B >>> 13);
}

/** mix() of each of M[from .. to). */
function mixWords(m: Int32Array, from: number, to: number): void {
  let a = A, b = B;
  for (let i = from; i < to; i++) {
    const v = m[i];
    a = Math.imul(a ^ v, 16777619);
    b = Math.imul(b ^ (v >>> 16) ^ (v << 16), 0x5bd1e995) ^ (b >>> 13);
  }
  A = a; B = b;
}

/** A live block of the C backend's heap: its pointers into the machine and into the addon's code are made relative. */
function mixNative(m: Int32Array, p: number, size: number, base: number, code: number): void {
  for (let i = 0; i < size; i++) {
    // A C pointer into the machine (an 8-byte field: at an even word of its block, which is where xmalloc's
    // struct starts) is its word offset here: the same state digests alike in every process.
    const w = i % 2 === 0 && i + 1 < size ? m[p + i + 1] * 2 ** 32 + (m[p + i] >>> 0) : 0;
    if (w >= base && w < base + m.length * 4) { mix(0x7ffffff1); mix((w - base) / 4); i++; }
    else if (Math.abs(w - code) < CODE_SPAN) { mix(0x7ffffff2); mix(w - code); i++; }
    else mix(m[p + i]);
  }
}

export function stateDigest(extra: string): string {
  const m = M;
  A = 0x811c9dc5 | 0; B = 0x01000193 | 0;
  const heap = LAYOUT.heap;
  const bump = m[CTL.HEAP_BUMP];
  const base = native(CTL.NATIVE_BASE), code = native(CTL.NATIVE_CODE);
  for (let p = heap.base + 2; p < bump;) {
    const size = m[p - 1];
    if (size <= 0) break;
    if ((m[p - 2] & 0xff) === LIVE) {
      mix(p); mix(m[p - 2]);
      if (base === 0) mixWords(m, p, p + size);
      else mixNative(m, p, size, base, code);
    }
    p += size + 2;
  }
  for (const name of REGIONS) {
    const r = LAYOUT.regions[name];
    if (r) mixWords(m, r.base, r.base + r.words);
  }
  for (let i = 0; i < extra.length; i++) mix(extra.charCodeAt(i));
  return (A >>> 0).toString(16).padStart(8, '0') + (B >>> 0).toString(16).padStart(8, '0');
}
