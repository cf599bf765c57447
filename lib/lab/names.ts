// Human names for model objects in reports: vCPUs as d0v1, locks as "d1->pci_lock" or "vpci->lock (00:03.0)",
// flight-recorder events as one line each.

import { M, LAYOUT } from '../mem/machine.js';
import { DOMAIN, PCI_DEV, VPCI } from '../xen/types.js';
import { XEN, xen } from '../xen/state.js';
import { EV, type TraceEvent } from '../trace/recorder.js';
import { siteName } from '../trace/sites.js';
import { OUTCOMES } from '../mem/crash.js';
import { sbdfName } from '../hw/index.js';
import type { World } from './boot.js';

/** cpu index -> "dXvY", given the order actors were laid out in (domain-major). */
export function vcpuNames(world: World): string[] {
  return world.vcpus.flatMap((vs, d) => vs.map((_, i) => `d${d}v${i}`));
}

export function lockNamer(world: World): (addr: number) => string | undefined {
  return (addr: number) => {
    for (let d = 0; d < world.domains.length; d++) {
      const dp = world.domains[d];
      if (addr === dp + DOMAIN.pci_lock) return `d${d}->pci_lock`;
      if (addr === dp + DOMAIN.vpci_rwlock) return `d${d}->vpci_rwlock`;
    }
    if (addr === xen(XEN.pcidevs_lock)) return 'pcidevs_lock';
    for (let p = M[xen(XEN.alldevs_list)]; p !== 0; p = M[p + PCI_DEV.alldevs_next]) {
      if (addr === p + PCI_DEV.vpci_lock) return `pdev->vpci_lock (${sbdfName(M[p + PCI_DEV.sbdf])})`;
      if (M[p + PCI_DEV.vpci] !== 0 && addr === M[p + PCI_DEV.vpci] + VPCI.lock) return `vpci->lock (${sbdfName(M[p + PCI_DEV.sbdf])})`;
    }
    return undefined;
  };
}

export function describeEvent(e: TraceEvent, cpuName: (c: number) => string): string {
  const cls = (i: number): string => LAYOUT.lockClasses[i] ?? `class${i}`;
  const who = cpuName(e.cpu).padEnd(5);
  switch (e.ev) {
    case EV.SITE: return `${who} at ${siteName(e.a)}`;
    case EV.LOCK: return `${who} lock ${cls(e.a)}`;
    case EV.UNLOCK: return `${who} unlock ${cls(e.a)}`;
    case EV.RLOCK: return `${who} read_lock ${cls(e.a)}`;
    case EV.RUNLOCK: return `${who} read_unlock ${cls(e.a)}`;
    case EV.TRYFAIL: return `${who} trylock failed ${cls(e.a)}`;
    case EV.WAIT: return `${who} waits for ${cls(e.a)}`;
    case EV.ENTER: return `${who} enter ${siteName(e.a)}${e.b ? ` 0x${(e.b >>> 0).toString(16)}` : ''}`;
    case EV.RET: return `${who} ${siteName(e.a)} returns ${e.b}`;
    case EV.CRASH: return `${who} CRASH ${OUTCOMES[e.a] ?? e.a}`;
    case EV.DONE: return `${who} done`;
    case EV.NOTE: return `${who} ${siteName(e.a)} (${e.b})`;
    default: return `${who} event ${e.ev} ${e.a} ${e.b}`;
  }
}
