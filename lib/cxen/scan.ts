// The compiled C's devices as the stale-mapping scan reads them (lib/strategy/devices.ts): C's own struct domain,
// pci_dev, vpci and vcpu, read from the machine's memory with the layout the compiled code reports (native/scan.c:
// offsetof and bitfield probes against the tree's headers, never guessed here). Reading needs no C to run, so the
// scan reads after a trial on any thread; the addon is asked for its layout once per build.

import { M, CTL } from '../mem/machine.js';
import { xen, XEN } from '../xen/state.js';
import { loadAddon } from './addon.js';
import type { ScanWorld, ScanDomains, ScanDevice, ScanBar, DeviceSource } from '../strategy/devices.js';

/** native/scan.c's values, in its order (the first is their number). */
const LAYOUT = ['count', 'g_domains', 'g_nr_domains', 'd_pdev_list', 'd_lab_domain', 'd_max_vcpus', 'd_vcpu',
  'p_domain_list', 'p_vpci', 'p_sbdf', 'v_bars', 'bar_size', 'nr_bars', 'b_addr', 'b_guest_addr', 'b_size', 'b_type',
  'b_enabled', 'bar_mem32', 'bar_mem64_lo', 'bar_rom', 'v_msix', 'x_tables', 'x_max_entries', 'vc_pdev', 'vc_pending'] as const;
type Layout = Record<(typeof LAYOUT)[number], number>;

const layouts = new Map<string, Layout>();

function layoutOf(addonPath: string): Layout {
  let l = layouts.get(addonPath);
  if (l) return l;
  const a = loadAddon(addonPath);
  const n = a.call('cx_scan_layout', 0);
  if (n !== LAYOUT.length) throw new Error(`native/scan.c reports ${n} layout values, lib/cxen/scan.ts reads ${LAYOUT.length}`);
  l = Object.fromEntries(LAYOUT.map((k, i) => [k, i === 0 ? n : a.call('cx_scan_layout', i)])) as Layout;
  layouts.set(addonPath, l);
  return l;
}

/** Byte reads of the machine, by C address (C's pointers are the machine's address in its process + offset). */
class CMemory {
  private readonly view = new DataView(M.buffer, M.byteOffset, M.byteLength);
  private readonly base = (M[CTL.NATIVE_BASE + 1] >>> 0) * 2 ** 32 + (M[CTL.NATIVE_BASE] >>> 0);
  /** A C pointer's byte offset in the machine, or -1 when it points elsewhere (NULL, poison, freed-and-gone). */
  at(ptr: number): number { const o = ptr - this.base; return ptr !== 0 && o >= 0 && o + 8 <= this.view.byteLength ? o : -1; }
  u32(o: number): number { return this.view.getUint32(o, true); }
  u64(o: number): number { return Number(this.view.getBigUint64(o, true)); }
  /** A bitfield: probe = byte offset * 2^32 + its 32-bit mask there (scan.c PROBE). */
  bits(o: number, probe: number): number {
    const at = Math.floor(probe / 2 ** 32), mask = probe % 2 ** 32;
    let w = 0;
    for (let i = 0; i < 4 && o + at + i < this.view.byteLength; i++) w += this.view.getUint8(o + at + i) * 2 ** (8 * i);
    return (w & mask) >>> 0 >>> (31 - Math.clz32(mask & -mask));
  }
}

function barsOf(mem: CMemory, L: Layout, vpci: number): ScanBar[] {
  const out: ScanBar[] = [];
  for (let i = 0; i < L.nr_bars; i++) {
    const b = vpci + L.v_bars + i * L.bar_size, t = mem.u32(b + L.b_type), addr = mem.u64(b + L.b_addr);
    const kind = t === L.bar_mem32 || t === L.bar_mem64_lo ? 'mem' : t === L.bar_rom ? 'rom' : 'other';
    const guestAddr = L.b_guest_addr < 0 ? addr : mem.u64(b + L.b_guest_addr);
    out.push({ index: i, kind, addr, guestAddr, size: mem.u64(b + L.b_size), enabled: mem.bits(b, L.b_enabled) !== 0 });
  }
  return out;
}

function deviceOf(mem: CMemory, L: Layout, p: number, pending: Set<number>): ScanDevice {
  const dev: ScanDevice = { sbdf: mem.u32(p + L.p_sbdf), pending: pending.has(p) };
  const vpci = mem.at(mem.u64(p + L.p_vpci));
  if (vpci < 0) return dev;
  dev.bars = barsOf(mem, L, vpci);
  const msix = mem.at(mem.u64(vpci + L.v_msix));
  if (msix >= 0) dev.msix = { tables: [mem.u32(msix + L.x_tables), mem.u32(msix + L.x_tables + 4)], maxEntries: mem.bits(msix, L.x_max_entries) };
  return dev;
}

/** Each C domain (byte offset) by the lab domain it mirrors, and the devices its vCPUs have deferred work for. */
function cDomains(mem: CMemory, L: Layout, g: number): { byLab: Map<number, number>; pending: Set<number> } {
  const byLab = new Map<number, number>(), pending = new Set<number>();
  const n = Math.min(mem.u32(g + L.g_nr_domains), 64);
  for (let i = 0; i < n; i++) {
    const d = mem.at(mem.u64(g + L.g_domains + 8 * i));
    if (d < 0) continue;
    byLab.set(mem.u32(d + L.d_lab_domain), d);
    for (let j = 0; j < Math.min(mem.u32(d + L.d_max_vcpus), 8); j++) {
      const v = mem.at(mem.u64(d + L.d_vcpu + 8 * j));
      if (v >= 0 && mem.u64(v + L.vc_pending) !== 0) pending.add(mem.at(mem.u64(v + L.vc_pdev)));
    }
  }
  return { byLab, pending };
}

/** The scan's source for a C build: C's devices on each lab domain's mirror. Under C no device is the model's. */
export function cDevices(addonPath: string): DeviceSource {
  return (world: ScanWorld): ScanDomains => {
    const gw = Atomics.load(M, xen(XEN.strategy));
    if (gw === 0) return world.domains.map(() => []);       // C never ran on this machine: it has no device
    const L = layoutOf(addonPath), mem = new CMemory();
    const { byLab, pending } = cDomains(mem, L, gw * 4);
    return world.domains.map((labDomain) => {
      const d = byLab.get(labDomain), out: ScanDevice[] = [];
      if (d === undefined) return out;
      const head = d + L.d_pdev_list;
      for (let link = mem.at(mem.u64(head)), n = 0; link >= 0 && link !== head && n < 256; link = mem.at(mem.u64(link)), n++) {
        out.push(deviceOf(mem, L, link - L.p_domain_list, pending));
      }
      return out;
    });
  };
}
