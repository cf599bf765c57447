// The stale-mapping scan, run after a trial that did not crash: a DomU's p2m may map only frames of enabled BARs
// of devices it owns; every enabled BAR must be mapped in its owner's p2m (Dom0 is allowed leftovers, as Roger
// said of the hardware domain) except its MSI-X table and PBA frames, which must trap; and, with no work pending
// for a device, hardware decoding agrees with its BARs. It judges a description of the devices
// (lib/strategy/devices.ts): the model's structs, or those of the backend the installed strategy runs (Xen's C).

import { M } from '../mem/machine.js';
import { chk } from '../mem/heap.js';
import { pci_conf_read16, PCI_COMMAND, PCI_COMMAND_MEMORY } from '../hw/index.js';
import { PCI_MSIX_BIRMASK, PCI_MSIX_ENTRY_SIZE } from '../hw/pci_regs.js';
import { DOMAIN, VPCI_MSIX_MEM_NUM, VPCI_MSIX_TABLE, XEN_PAGE_SHIFT } from '../xen/types.js';
import { p2m_mapped, p2m_lookup } from '../xen/p2m.js';
import { installedDeviceSource, type ScanWorld, type ScanDevice } from '../strategy/devices.js';
import { modelDevices } from './model-devices.js';

export type { ScanWorld } from '../strategy/devices.js';

export interface StaleFinding { domain: number; sbdf: number; gfn: number; what: string }

const hex = (n: number): string => `0x${n.toString(16)}`;
const pfn = (a: number): number => Math.floor(a / 2 ** XEN_PAGE_SHIFT);

export function staleMappingScan(world: ScanWorld): StaleFinding[] {
  const out: StaleFinding[] = [];
  const described = (installedDeviceSource() ?? modelDevices)(world);
  const domains = world.domains;
  // Runs after every verify run that ends cleanly: the frames as [first, last] pairs in a kept array, not a Set.
  const legit = LEGIT;
  for (let di = 0; di < domains.length; di++) {
    const d = domains[di];
    const hw = M[chk(d, DOMAIN, 'scan') + DOMAIN.is_hardware_domain] !== 0;
    legit.length = 0;
    for (const dev of described[di] ?? []) judgeDevice(d, di, dev, legit, out);
    if (hw) continue;
    for (const [gfn] of p2m_mapped(di)) {
      if (!within(legit, gfn)) out.push({ domain: di, sbdf: -1, gfn, what: `d${di} maps frame ${hex(gfn)} it has no enabled BAR for` });
    }
  }
  return out;
}

const LEGIT: number[] = [];

/** Whether x is in one of the [first, last] pairs. */
function within(pairs: readonly number[], x: number): boolean {
  for (let i = 0; i < pairs.length; i += 2) if (x >= pairs[i] && x <= pairs[i + 1]) return true;
  return false;
}

/** One device of domain d: its enabled BARs mapped (but for MSI-X holes), decoding in agreement; `legit` gets its frames. */
function judgeDevice(d: number, di: number, dev: ScanDevice, legit: number[], out: StaleFinding[]): void {
  if (!dev.bars) return;
  const holes = msixHoles(dev);
  let enabledBars = 0, memBars = 0;
  for (const b of dev.bars) {
    if (b.kind === 'other') continue;
    // Guest frames [s, e] of the BAR and the host frame of its first.
    const s = pfn(b.guestAddr), e = pfn(b.guestAddr + b.size - 1), mfn = pfn(b.addr);
    if (b.kind === 'mem') { memBars++; if (b.enabled) enabledBars++; }
    if (!b.enabled) continue;
    if (e >= s) legit.push(s, e);
    if (dev.pending) continue;
    if (!p2mCovers(d, s, e, mfn, holes)) out.push({ domain: di, sbdf: dev.sbdf, gfn: s, what: `BAR${b.index === 6 ? ' ROM' : b.index} enabled but not mapped in d${di}` });
  }
  if (dev.pending || memBars === 0) return;
  const decoding = (pci_conf_read16(dev.sbdf, PCI_COMMAND) & PCI_COMMAND_MEMORY) !== 0;
  if (decoding !== (enabledBars === memBars) || (enabledBars !== 0 && enabledBars !== memBars)) {
    out.push({ domain: di, sbdf: dev.sbdf, gfn: 0, what: `COMMAND.MEMORY=${decoding ? 1 : 0} but ${enabledBars}/${memBars} BARs enabled` });
  }
}

/** Every frame of [s, e] mapped to its host frame in d's p2m, but for the MSI-X table and PBA frames (`holes`), which must trap. */
function p2mCovers(d: number, s: number, e: number, mfn: number, holes: readonly number[]): boolean {
  for (let f = s; f <= e; f++) if (!within(holes, mfn + (f - s)) && p2m_lookup(d, f) !== mfn + (f - s)) return false;
  return true;
}

/**
 * Host frames of the device's MSI-X table and PBA as [first, last] pairs, which vpci_make_msix_hole keeps
 * unmapped: vpci.h's vmsix_table_addr (HEAD: vmsix_table_host_addr) and vmsix_table_size, over the described registers.
 */
function msixHoles(dev: ScanDevice): number[] {
  const out: number[] = [];
  if (!dev.msix || !dev.bars) return out;
  const n = dev.msix.maxEntries;
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
    const reg = dev.msix.tables[i];
    const a = (dev.bars[reg & PCI_MSIX_BIRMASK]?.addr ?? 0) + ((reg & ~PCI_MSIX_BIRMASK) >>> 0);
    const size = i === VPCI_MSIX_TABLE ? n * PCI_MSIX_ENTRY_SIZE : Math.ceil(Math.ceil(n / 8) / 8) * 8;
    if (pfn(a + size - 1) >= pfn(a)) out.push(pfn(a), pfn(a + size - 1));
  }
  return out;
}
