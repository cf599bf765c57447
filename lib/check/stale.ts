// The stale-mapping scan, run after a trial that did not crash: a DomU's p2m may map only frames of enabled BARs
// of devices it owns; every enabled BAR must be mapped in its owner's p2m (Dom0 is allowed leftovers, as Roger
// said of the hardware domain) except its MSI-X table and PBA frames, which must trap; and, with no work pending
// for a device, hardware decoding agrees with its BARs.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { pci_conf_read16, PCI_COMMAND, PCI_COMMAND_MEMORY } from '../hw/index.js';
import { DOMAIN, PCI_DEV, VPCI, VCPU, BAR, NR_BARS, VPCI_BAR_ROM, VPCI_MSIX_MEM_NUM } from '../xen/types.js';
import { vmsix_table_addr, vmsix_table_size } from '../xen/vmsix.js';
import { bar, barFrames, MAPPABLE_BAR } from '../xen/bars.js';
import { p2m_mapped, p2m_lookup } from '../xen/p2m.js';
import { installedCaps } from '../xen/fn.js';
import { vcpu_has_pending } from '../xen/domain.js';
import { guestFrames } from '../xen/head/header.js';

/** Guest frames of a BAR and the host frame of its first: HEAD maps guest_addr to addr, L21 identity. */
function frames(b: number): { s: number; e: number; mfn: number } {
  const [s, e] = barFrames(b);
  if (!installedCaps.guestBarAddress) return { s, e, mfn: s };
  const [gs, ge] = guestFrames(b);
  return { s: gs, e: ge, mfn: s };
}

/** What the scan needs of a booted machine (lib/lab's World has it): the domains and their vCPUs. */
export interface ScanWorld { domains: readonly number[]; vcpus: readonly (readonly number[])[] }

export interface StaleFinding { domain: number; sbdf: number; gfn: number; what: string }

const hex = (n: number): string => `0x${n.toString(16)}`;

export function staleMappingScan(world: ScanWorld): StaleFinding[] {
  const out: StaleFinding[] = [];
  const pendingFor = new Set<number>();
  for (const vs of world.vcpus) for (const v of vs) if (vcpu_has_pending(v)) pendingFor.add(M[v + VCPU.vpci_pdev]);
  world.domains.forEach((d, di) => {
    const hw = M[chk(d, DOMAIN, 'scan') + DOMAIN.is_hardware_domain] !== 0;
    const legit = new Set<number>();
    for (let p = M[d + DOMAIN.pdev_list]; p !== NULL; p = M[chk(p, PCI_DEV, 'scan') + PCI_DEV.domain_next]) {
      const vpci = M[p + PCI_DEV.vpci];
      if (vpci === NULL) continue;
      chk(vpci, VPCI, 'scan');
      const sbdf = M[p + PCI_DEV.sbdf];
      const pending = pendingFor.has(p);
      let enabledBars = 0, memBars = 0;
      for (let i = 0; i < NR_BARS; i++) {
        const b = bar(vpci, i);
        if (!MAPPABLE_BAR(b)) continue;
        const { s, e, mfn } = frames(b);
        const isRom = M[b + BAR.type] === VPCI_BAR_ROM;
        if (!isRom) { memBars++; if (M[b + BAR.enabled]) enabledBars++; }
        if (!M[b + BAR.enabled]) continue;
        for (let f = s; f <= e; f++) legit.add(f);
        if (pending) continue;
        const mappedAll = p2mCovers(d, s, e, mfn, msixHoles(vpci));
        if (!mappedAll) out.push({ domain: di, sbdf, gfn: s, what: `BAR${i === 6 ? ' ROM' : i} enabled but not mapped in d${di}` });
      }
      if (!pending && memBars > 0) {
        const decoding = (pci_conf_read16(sbdf, PCI_COMMAND) & PCI_COMMAND_MEMORY) !== 0;
        if (decoding !== (enabledBars === memBars) || (enabledBars !== 0 && enabledBars !== memBars)) {
          out.push({ domain: di, sbdf, gfn: 0, what: `COMMAND.MEMORY=${decoding ? 1 : 0} but ${enabledBars}/${memBars} BARs enabled` });
        }
      }
    }
    if (hw) return;
    for (const [gfn] of p2m_mapped(di)) {
      if (!legit.has(gfn)) out.push({ domain: di, sbdf: -1, gfn, what: `d${di} maps frame ${hex(gfn)} it has no enabled BAR for` });
    }
  });
  return out;
}

/** Every frame of [s, e] mapped to its host frame in d's p2m, but for the MSI-X table and PBA frames, which must trap. */
function p2mCovers(d: number, s: number, e: number, mfn: number, holes: ReadonlySet<number>): boolean {
  for (let f = s; f <= e; f++) if (!holes.has(mfn + (f - s)) && p2m_lookup(d, f) !== mfn + (f - s)) return false;
  return true;
}

/** Frames of the device's MSI-X table and PBA (vpci_make_msix_hole keeps them unmapped). */
function msixHoles(vpci: number): Set<number> {
  const out = new Set<number>();
  if (M[vpci + VPCI.msix] === NULL) return out;
  for (let i = 0; i < VPCI_MSIX_MEM_NUM; i++) {
    const a = vmsix_table_addr(vpci, i, 'scan');
    for (let f = Math.floor(a / 4096); f <= Math.floor((a + vmsix_table_size(vpci, i, 'scan') - 1) / 4096); f++) out.add(f);
  }
  return out;
}
