// The TypeScript model's devices as the stale-mapping scan reads them (lib/strategy/devices.ts): each domain's
// pdev_list, every pdev->vpci's BARs and MSI-X registers, and the devices some vCPU has deferred BAR work for.

import { M } from '../mem/machine.js';
import { chk, NULL } from '../mem/heap.js';
import { DOMAIN, PCI_DEV, VPCI, VCPU, BAR, NR_BARS, VPCI_BAR_MEM32, VPCI_BAR_MEM64_LO, VPCI_BAR_ROM, VPCI_MSIX } from '../xen/types.js';
import { bar, addrOf, sizeOf } from '../xen/bars.js';
import { installedCaps } from '../xen/fn.js';
import { vcpu_has_pending } from '../xen/domain.js';
import { guestAddrOf } from '../xen/head/header.js';
import type { ScanWorld, ScanDomains, ScanDevice, ScanBar } from '../strategy/devices.js';

function barsOf(vpci: number): ScanBar[] {
  const out: ScanBar[] = [];
  for (let i = 0; i < NR_BARS; i++) {
    const b = bar(vpci, i), t = M[b + BAR.type];
    const kind = t === VPCI_BAR_MEM32 || t === VPCI_BAR_MEM64_LO ? 'mem' : t === VPCI_BAR_ROM ? 'rom' : 'other';
    // HEAD maps a BAR's guest address to its host address; L21 maps it 1:1.
    const guestAddr = installedCaps.guestBarAddress ? guestAddrOf(b) : addrOf(b);
    out.push({ index: i, kind, addr: addrOf(b), guestAddr, size: sizeOf(b), enabled: M[b + BAR.enabled] !== 0 });
  }
  return out;
}

export function modelDevices(world: ScanWorld): ScanDomains {
  const pendingFor = new Set<number>();
  for (const vs of world.vcpus) for (const v of vs) if (vcpu_has_pending(v)) pendingFor.add(M[v + VCPU.vpci_pdev]);
  return world.domains.map((d) => {
    const out: ScanDevice[] = [];
    for (let p = M[chk(d, DOMAIN, 'scan') + DOMAIN.pdev_list]; p !== NULL; p = M[chk(p, PCI_DEV, 'scan') + PCI_DEV.domain_next]) {
      const vpci = M[p + PCI_DEV.vpci], dev: ScanDevice = { sbdf: M[p + PCI_DEV.sbdf], pending: pendingFor.has(p) };
      out.push(dev);
      if (vpci === NULL) continue;
      dev.bars = barsOf(chk(vpci, VPCI, 'scan'));
      const msix = M[vpci + VPCI.msix];
      if (msix === NULL) continue;
      chk(msix, VPCI_MSIX, 'scan');
      dev.msix = { tables: [M[msix + VPCI_MSIX.tables] >>> 0, M[msix + VPCI_MSIX.tables + 1] >>> 0], maxEntries: M[msix + VPCI_MSIX.max_entries] };
    }
    return out;
  });
}
