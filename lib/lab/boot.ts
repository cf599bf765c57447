// Booting a machine for one trial: shared memory sized for the model, emulated hardware powered on, Xen's state,
// the domains with their vCPUs, the strategy, the devices Dom0 finds at boot (mapped synchronously by apply_map,
// as during Dom0 build), then system_state = active. Runs on the main thread; workers attach to the result.

import { createMachine, attach, M, MAX_THREADS, type Machine } from '../mem/machine.js';
import { initHw, hwRegions, type HwDesc } from '../hw/index.js';
import { XEN, xen, initXenState, MODEL_LOCK_CLASSES, SYS_STATE_active, set_current } from '../xen/state.js';
import { p2mWords } from '../xen/p2m.js';
import { domain_create, dom_xen_create, dom_io_create } from '../xen/domain.js';
import { DOMAIN, PCI_DEV } from '../xen/types.js';
import { fn } from '../xen/fn.js';
import { pcidevs_lock, pcidevs_unlock, pci_hide_device } from '../xen/pci.js';
import { write_lock, write_unlock } from '../sync/rwlock.js';
import { installStrategy, loadedStrategy } from '../strategy/index.js';
import { INPATCH_REGION } from '../strategy/guard.js';
import { FLAG_HEAD_LOCKS } from '../sync/layouts.js';
import { FLAG_XEN_RELEASE } from '../mem/crash.js';
import type { PciDevPtr, DomainPtr, VcpuPtr } from '../xen/types.js';

export interface ModelDesc {
  /** vCPUs of Dom0 (the hardware domain), then of each DomU. */
  dom0Vcpus: number;
  domUVcpus: number[];
  hw: HwDesc;
  /** Functions Dom0 owns from boot (PHYSDEVOP-free: setup_one_hwdom_device with apply_map). */
  bootDevices?: number[];
  /** Devices Xen hides at boot (pci_hide_device: dom_xen owns them), by SBDF; at HEAD the hardware domain's vPCI covers them. */
  hiddenDevices?: number[];
  /** Then assigned to a DomU before its vCPUs start (the toolstack's `xl create` with pci=[...]). */
  bootAssign?: Array<{ domain: number; sbdf: number }>;
  /** A built-in strategy name, or a patch file already loaded with loadStrategy. */
  strategy: string;
  seed?: number;
  /** Per-mille fault rates, and one-shot forced failures. */
  inject?: { iommu?: number; map?: number; iommuNext?: number; mapNext?: number };
  /** Frames per map_mmio_regions call, and general_preempt_check() every N-th call (0 = never). */
  mapBatch?: number;
  preemptEvery?: number;
  /** OS threads that will attach (at most 15: one slot is the boot thread's). */
  threads: number;
  heapWords?: number;
  /** Reuse freed blocks at once, as Xen's allocator may (no quarantine): stale pointers land on new objects. */
  heapReuse?: boolean;
  profile?: boolean;
  lockdep?: boolean;
  /**
   * DomUs get vPCI too: CONFIG_HAS_VPCI_GUEST_SUPPORT, from the v4/v5 "PCI devices passthrough on Arm" series.
   * Off by default, as in Xen (only the hardware domain has vPCI, both generations).
   */
  vpciGuestSupport?: boolean;
  /**
   * Xen's build: 'debug' (ASSERT panics; the default, as the lab has always run) or 'release' (ASSERT is not even
   * evaluated and the code runs on). Default: VPCI_XEN_BUILD, which the CLI's --xen-build sets, else debug.
   */
  xenBuild?: 'debug' | 'release';
  /**
   * iommu=[no-]quarantine: with quarantine (CONFIG_IOMMU_QUARANTINE_BASIC, Xen's default since 4.13) a device leaving
   * a DomU goes to dom_io, which has no vPCI, until the toolstack deassigns it from dom_io too. Default: VPCI_IOMMU
   * ('no-quarantine' turns it off; the CLI's --iommu sets it), else quarantine.
   */
  iommuQuarantine?: boolean;
  /** Extra shared regions (words) for the lab's own use, e.g. a workload's control words. */
  extraRegions?: Record<string, number>;
}

/** Pointers a worker needs to find its way around (structured-clonable). */
export interface World {
  domains: DomainPtr[];         // struct domain *, Dom0 first
  vcpus: VcpuPtr[][];           // per domain, struct vcpu *
  devices: number[];            // sbdf of every function in the hardware
}

export const BOOT_CPU = MAX_THREADS - 1;

/** The machine options a desc leaves out, from the environment the CLI set (so that workers and jobs agree). */
export function machineDefaults(env: NodeJS.ProcessEnv = process.env): { xenBuild: 'debug' | 'release'; iommuQuarantine: boolean } {
  return { xenBuild: env.VPCI_XEN_BUILD === 'release' ? 'release' : 'debug', iommuQuarantine: env.VPCI_IOMMU !== 'no-quarantine' };
}

/**
 * pci_hide_device, then what setup_hwdom_pci_devices does for a dom_xen device at HEAD (pci.c:1317-1322, 1285-1287):
 * pdev->domain is the hardware domain just long enough for vpci_assign_device under hwdom's lock. L21 leaves hidden
 * devices out of vPCI: its lookups (pci_get_pdev_by_domain(hwdom)) never find them (465217b0f8 came in 2023).
 */
function hideDevice(sbdf: number, hwdom: number, dx: number, head: boolean): void {
  const pdev = pci_hide_device(sbdf) as PciDevPtr;
  if (pdev === 0) throw new Error(`hidden device ${sbdf.toString(16)}: no memory`);
  if (!head) return;
  M[pdev + PCI_DEV.domain] = hwdom;
  write_lock(hwdom + DOMAIN.pci_lock);
  const rc = fn.vpci_assign_device(pdev);
  write_unlock(hwdom + DOMAIN.pci_lock);
  M[pdev + PCI_DEV.domain] = dx;
  if (rc) throw new Error(`hidden device ${sbdf.toString(16)}: vPCI setup failed: ${rc}`);
}

export function bootMachine(desc: ModelDesc): { machine: Machine; world: World } {
  const ndom = 1 + desc.domUVcpus.length;
  const defaults = machineDefaults();
  const machine = createMachine({
    threads: desc.threads,
    heapWords: desc.heapWords,
    heapReuse: desc.heapReuse,
    lockClasses: MODEL_LOCK_CLASSES,
    profile: desc.profile,
    lockdep: desc.lockdep,
    meta: { strategy: loadedStrategy(desc.strategy).spec },
    // HEAD's lock word layouts for a machine running the HEAD generation (lib/sync/layouts.ts).
    extraFlags: (loadedStrategy(desc.strategy).generation.name === 'head' ? FLAG_HEAD_LOCKS : 0) |
      ((desc.xenBuild ?? defaults.xenBuild) === 'release' ? FLAG_XEN_RELEASE : 0),
    // inpatch: which patch-file function each CPU is inside (lib/strategy/guard.ts), for lab-input errors.
    regions: { xen: XEN.words, p2m: p2mWords(ndom), ...hwRegions(desc.hw), [INPATCH_REGION]: MAX_THREADS, ...desc.extraRegions },
  });
  attach(machine, BOOT_CPU);
  initHw(machine, desc.hw);
  initXenState(desc.seed ?? 1);
  if (desc.mapBatch !== undefined) M[xen(XEN.map_batch)] = desc.mapBatch;
  if (desc.preemptEvery !== undefined) M[xen(XEN.preempt_every)] = desc.preemptEvery;
  installStrategy(desc.strategy);
  const domains = [domain_create(0, true, desc.dom0Vcpus), ...desc.domUVcpus.map((n, i) => domain_create(i + 1, false, n, desc.vpciGuestSupport === true))];
  const vcpus = domains.map((d) => Array.from({ length: M[d + DOMAIN.max_vcpus] }, (_, i) => M[d + DOMAIN.vcpu + i] as VcpuPtr));
  set_current(vcpus[0][0]);
  const dx = dom_xen_create();
  dom_io_create();
  M[xen(XEN.iommu_quarantine)] = (desc.iommuQuarantine ?? defaults.iommuQuarantine) ? 1 : 0;
  for (const sbdf of desc.hiddenDevices ?? []) hideDevice(sbdf, domains[0], dx, loadedStrategy(desc.strategy).generation.name === 'head');
  for (const sbdf of desc.bootDevices ?? []) {
    const rc = fn.pci_add_device(sbdf);
    if (rc) throw new Error(`boot device ${sbdf.toString(16)} failed to add: ${rc}`);
  }
  for (const { domain, sbdf } of desc.bootAssign ?? []) {
    pcidevs_lock();
    const rc = fn.assign_device(domains[domain], sbdf);
    pcidevs_unlock();
    if (rc) throw new Error(`boot assignment of ${sbdf.toString(16)} to d${domain} failed: ${rc}`);
  }
  // Faults are for the run, not for Dom0's build.
  M[xen(XEN.iommu_fail_permille)] = desc.inject?.iommu ?? 0;
  M[xen(XEN.map_fail_permille)] = desc.inject?.map ?? 0;
  M[xen(XEN.iommu_fail_next)] = desc.inject?.iommuNext ?? 0;
  M[xen(XEN.map_fail_next)] = desc.inject?.mapNext ?? 0;
  M[xen(XEN.system_state)] = SYS_STATE_active;
  set_current(0);
  return { machine, world: { domains, vcpus, devices: desc.hw.functions.map((f) => f.sbdf) } };
}
