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
  mixRegions(m);
  for (let i = 0; i < extra.length; i++) mix(extra.charCodeAt(i));
  return hex8(A) + hex8(B);
}

/** Two hex digits of each byte (Number.toString(16) and padStart were a tenth of a digest's time). */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function hex8(x: number): string {
  return HEX[(x >>> 24) & 0xff] + HEX[(x >>> 16) & 0xff] + HEX[(x >>> 8) & 0xff] + HEX[x & 0xff];
}

// The regions are most of the words hashed (p2m and the config space: thousands, against a heap of hundreds),
// and hashing them is a chain of multiplications, a few cycles a word, where comparing them is a memcmp. A search's
// runs end in few distinct heaps and few distinct region contents, so the hash state after the regions is kept by
// the hash state before them, with a copy of the regions: the same state before and the same words give the same
// state after. A copy is kept for each of the latest few contents met after a given state (256 in all: 7 MB).
interface After { a0: number; b0: number; bytes: Buffer; words: Int32Array; a: number; b: number }
/** By hash state A before the regions, the latest first; all of them in order of arrival (the oldest dropped first). */
const after = new Map<number, After[]>();
const arrived: After[] = [];
const AFTER = 256, PER_STATE = 8;

/** M's bytes (a view kept while M views the same memory: each run attaches a new M over a reused buffer). */
let mBytes: Buffer = Buffer.alloc(0), mOf: ArrayBufferLike | null = null;
/** The regions' word ranges in hash order as [base, words, ...], adjacent ones merged (a memcmp each), for LAYOUT. */
let spans: number[] = [], spansOf: typeof LAYOUT | null = null, spanBytes = 0;

function mixRegions(m: Int32Array): void {
  if (m.buffer !== mOf || mBytes.byteOffset !== m.byteOffset || mBytes.length !== m.byteLength) {
    mOf = m.buffer; mBytes = Buffer.from(m.buffer, m.byteOffset, m.byteLength);
  }
  if (LAYOUT !== spansOf) layoutSpans();
  const a0 = A, b0 = B, list = after.get(a0);
  if (list !== undefined) {
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (e.b0 !== b0 || !holds(m, e)) continue;
      A = e.a; B = e.b;
      // The contents met most often are looked at first (most states have several).
      if (i > 0) { list.splice(i, 1); list.unshift(e); }
      return;
    }
  }
  const sp = spans;
  for (let i = 0; i < sp.length; i += 2) mixWords(m, sp[i], sp[i] + sp[i + 1]);
  const e = arrived.length >= AFTER ? drop(arrived.shift()!) : { a0: 0, b0: 0, bytes: Buffer.alloc(0), words: new Int32Array(0), a: 0, b: 0 };
  if (e.bytes.length !== spanBytes) { e.bytes = Buffer.allocUnsafeSlow(spanBytes); e.words = new Int32Array(e.bytes.buffer, e.bytes.byteOffset, spanBytes >> 2); }
  for (let i = 0, n = 0; i < sp.length; i += 2) n += mBytes.copy(e.bytes, n, 4 * sp[i], 4 * (sp[i] + sp[i + 1]));
  e.a0 = a0; e.b0 = b0; e.a = A; e.b = B;
  arrived.push(e);
  const l = list ?? [];
  if (l.length >= PER_STATE) l.pop();
  l.unshift(e);
  after.set(a0, l);
}

function layoutSpans(): void {
  spansOf = LAYOUT; spans = []; spanBytes = 0; hotN = 0; hotNext = 0;
  for (const name of REGIONS) {
    const r = LAYOUT.regions[name];
    if (!r) continue;
    const k = spans.length;
    if (k > 0 && spans[k - 2] + spans[k - 1] === r.base) spans[k - 1] += r.words;
    else spans.push(r.base, r.words);
    spanBytes += 4 * r.words;
  }
}

/** Take `e` out of its state's list (to be reused). */
function drop(e: After): After {
  const l = after.get(e.a0), i = l ? l.indexOf(e) : -1;
  if (i >= 0) { l!.splice(i, 1); if (l!.length === 0) after.delete(e.a0); }
  return e;
}

// Several copies kept for one state mostly differ in a few words (a mapping made or not, a register written), and
// a memcmp that fails there has read the regions up to it. The words where a failed comparison first found a
// difference are kept (the latest HOT of them) and compared first, one load each: a copy that differs in one of them
// costs no memcmp. Whatever they say, a copy is used only after a whole comparison.
const HOT = 32;
/** Hot words as M's word index and the copy's, for the current spans. */
const hotM = new Int32Array(HOT), hotC = new Int32Array(HOT);
let hotN = 0, hotNext = 0;

/** Whether M's regions hold copy e's words, in order: the hot words first, then a memcmp per span. */
function holds(m: Int32Array, e: After): boolean {
  if (e.bytes.length !== spanBytes) return false;
  const w = e.words;
  for (let h = 0; h < hotN; h++) if (m[hotM[h]] !== w[hotC[h]]) return false;
  const sp = spans, bytes = e.bytes;
  for (let i = 0, n = 0; i < sp.length; i += 2) {
    const at = 4 * sp[i], len = 4 * sp[i + 1];
    if (mBytes.compare(bytes, n, n + len, at, at + len) !== 0) { heat(m, w, sp[i], n >> 2, sp[i + 1]); return false; }
    n += len;
  }
  return true;
}

/** Keep the first word where M's span at `base` (of `words`) differs from the copy's words at `c`. */
function heat(m: Int32Array, w: Int32Array, base: number, c: number, words: number): void {
  let k = 0;
  while (k < words && m[base + k] === w[c + k]) k++;
  if (k === words) return;
  hotM[hotNext] = base + k; hotC[hotNext] = c + k;
  hotNext = (hotNext + 1) % HOT;
  if (hotN < HOT) hotN++;
}
