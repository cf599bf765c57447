// The p2m of each domain, reduced to what the race needs: an MMIO window of guest frames, each mapped to a machine
// frame or not. map_mmio_regions / unmap_mmio_regions make partial progress (at most map_batch frames per call,
// returning how many were done), as Xen's do, and can be made to fail.

import { M, region, onAttach, LAYOUT } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { DOMAIN, ENOMEM, EINVAL } from './types.js';
import { XEN, xen } from './state.js';
import { fault_point } from './fault.js';

/** Guest frames [P2M_BASE_PFN, P2M_BASE_PFN + P2M_FRAMES) can hold MMIO mappings. */
export const P2M_BASE_PFN = 0xe0000;        // 0xe000_0000: a typical 32-bit MMIO hole
export const P2M_FRAMES = 4096;             // 16 MiB window
const NOT_MAPPED = 0;

let p2mBase = 0;
onAttach(() => { if (LAYOUT.regions.p2m) p2mBase = LAYOUT.regions.p2m.base; });

export function p2mWords(domains: number): number { return domains * P2M_FRAMES; }

function slot(d: number, gfn: number, where: string): number {
  const i = gfn - P2M_BASE_PFN;
  if (i < 0 || i >= P2M_FRAMES) return -1;
  return p2mBase + M[chk(d, DOMAIN, where) + DOMAIN.p2m_index] * P2M_FRAMES + i;
}

function update(d: number, gfn: number, nr: number, mfn: number, map: boolean): number {
  const where = map ? 'map_mmio_regions' : 'unmap_mmio_regions';
  if (fault_point('map')) return ENOMEM;
  const batch = Math.max(1, M[xen(XEN.map_batch)]);
  const n = Math.min(nr, batch);
  for (let i = 0; i < n; i++) {
    const s = slot(d, gfn + i, where);
    if (s < 0) return i > 0 ? i : EINVAL;
    Atomics.store(M, s, map ? mfn + i + 1 : NOT_MAPPED);
  }
  return n === nr ? 0 : n;
}

/** 0 when all nr frames are done, a positive count on partial progress, a negative errno on failure. */
export function map_mmio_regions(d: number, gfn: number, nr: number, mfn: number): number { return update(d, gfn, nr, mfn, true); }
export function unmap_mmio_regions(d: number, gfn: number, nr: number, mfn: number): number { return update(d, gfn, nr, mfn, false); }

/** clear_identity_p2m_entry: drop one identity MMIO mapping (vpci_make_msix_hole); no batching, no injected fault. */
export function clear_identity_p2m_entry(d: number, gfn: number): void {
  const s = slot(d, gfn, 'clear_identity_p2m_entry');
  if (s >= 0) Atomics.store(M, s, NOT_MAPPED);
}

/** The machine frame a guest frame maps to, or -1 (checks and tests). */
export function p2m_lookup(d: number, gfn: number): number {
  const s = slot(d, gfn, 'p2m_lookup');
  if (s < 0) return -1;
  const v = Atomics.load(M, s);
  return v === NOT_MAPPED ? -1 : v - 1;
}

/** Every mapped guest frame of a p2m table (by table index, no domain dereference: used after a trial). */
export function p2m_mapped(index: number): Array<[gfn: number, mfn: number]> {
  const out: Array<[number, number]> = [];
  const b = p2mBase + index * P2M_FRAMES;
  // The stale-mapping scan reads every DomU's table after every clean verify run, and a table maps a few frames
  // of 4096: a chunk that is all NOT_MAPPED (0) is passed over by a memcmp, a third of the time a word loop takes.
  if (mBytes.buffer !== M.buffer || mBytes.byteOffset !== M.byteOffset) mBytes = Buffer.from(M.buffer, M.byteOffset, M.byteLength);
  for (let c = 0; c < P2M_FRAMES; c += CHUNK) {
    if (mBytes.compare(UNMAPPED, 0, 4 * CHUNK, 4 * (b + c), 4 * (b + c + CHUNK)) === 0) continue;
    for (let i = c; i < c + CHUNK; i++) if (M[b + i] !== NOT_MAPPED) out.push([P2M_BASE_PFN + i, M[b + i] - 1]);
  }
  return out;
}
const CHUNK = 512, UNMAPPED = Buffer.alloc(4 * CHUNK);
let mBytes: Buffer = Buffer.alloc(0);
