// Driving the model directly, as Xen's own tools/tests/vpci/main.c drives vpci.c through emul.h: boot a machine
// of either generation, pick the current vCPU, make a bare device (a pci_dev with an empty struct vpci, no init
// hooks run), register handlers given as functions, and call model functions by their Xen names. Single-threaded,
// on the thread that calls it; trials with real threads are the commands' business.

import { M, releaseMachine, type Machine } from '../mem/machine.js';
import { xzalloc } from '../mem/heap.js';
import { spin_lock_init } from '../sync/spinlock.js';
import { fn, MODEL_FN_NAMES, type ModelFns, type ModelFnName } from '../xen/fn.js';
import { PCI_DEV, VPCI, type DomainPtr, type PciDevPtr, type VcpuPtr, type VpciPtr } from '../xen/types.js';
import { CLASS, set_current } from '../xen/state.js';
import { list_add_pdev } from '../xen/pci.js';
import { list_add_alldevs } from '../xen/list.js';
import { registerRead, registerWrite, HANDLER, type ReadHandler, type WriteHandler } from '../xen/handlers.js';
import { loadedStrategy, knownStrategyNames } from '../strategy/index.js';
import { closest } from '../strategy/expect.js';
import { bootMachine } from '../lab/boot.js';
import { stressHw, deviceSbdf } from '../lab/workload.js';

export interface HarnessOptions {
  /** A generation (`l21`, `head`), a built-in strategy, or a patch file already loaded with loadStrategy. */
  strategy: string;
  /** vCPUs per domain, Dom0 first (default [1]: one domain, one vCPU, as main.c). */
  vcpus?: number[];
  /** Hardware devices, the stress machine's (64 KiB BAR0, 16 KiB 64-bit BAR, I/O BAR, ROM); default 0. */
  devices?: number;
  /** Give those devices MSI-X / MSI capabilities. */
  msix?: boolean;
  msi?: boolean;
  /** Add the hardware devices to Dom0 at boot through pci_add_device, vPCI init hooks and all (default true). */
  boot?: boolean;
  /** Heap size in 32-bit words (default 65536). */
  heapWords?: number;
}

/** A register's access masks (HEAD's vpci_add_register_mask, vpci.c:265-324). */
export interface RegisterMasks { ro?: number; rw1c?: number; rsvdp?: number; rsvdz?: number }

export interface Harness {
  /** `l21` or `head`, and the strategy the table was built from. */
  readonly generation: string;
  readonly strategy: string;
  /** struct domain * per domain (Dom0 first), struct vcpu * per domain and vCPU, the hardware devices' SBDFs. */
  readonly domains: readonly DomainPtr[];
  readonly vcpus: readonly (readonly VcpuPtr[])[];
  readonly devices: readonly number[];
  /** Xen's `current`: a vCPU pointer, or [domain index, vCPU index]. */
  setCurrent(v: VcpuPtr | readonly [number, number]): void;
  /**
   * A pci_dev with an empty struct vpci (handler list empty, lock initialised, no init hook run), owned by domain
   * `domain` (index, default 0) and on its pdev_list and alldevs_list. `sbdf` defaults to 00:1f.7, absent in the
   * hardware, so unhandled accesses read all-ones and writes are dropped (emul.h's pci_conf_* stubs).
   */
  bareDevice(o?: { sbdf?: number; domain?: number }): { pdev: PciDevPtr; vpci: VpciPtr; sbdf: number };
  /** vpci_add_register (or, with masks, HEAD's vpci_add_register_mask) with handler functions; null = none. Xen's rc. */
  addRegister(vpci: VpciPtr, read: ReadHandler | null, write: WriteHandler | null, offset: number, size: number, data: number, masks?: RegisterMasks): number;
  /** Release the machine's memory (the harness is unusable after). */
  release(): void;
}

let nextHandler = 64;
const ids = new Map<ReadHandler | WriteHandler, number>();

/** The id a handler function gets in this thread (struct vpci_register stores a number; lib/xen/handlers.ts). */
export function readHandler(f: ReadHandler): number {
  let id = ids.get(f);
  if (id === undefined) { id = nextHandler++; ids.set(f, id); registerRead(id, f); }
  return id;
}
export function writeHandler(f: WriteHandler): number {
  let id = ids.get(f);
  if (id === undefined) { id = nextHandler++; ids.set(f, id); registerWrite(id, f); }
  return id;
}

/** Call a model function by its Xen name, in the generation installed in this thread. */
export function callModel<K extends ModelFnName>(name: K, ...args: Parameters<ModelFns[K]>): ReturnType<ModelFns[K]> {
  if (!(MODEL_FN_NAMES as readonly string[]).includes(name)) {
    const near = closest(name, MODEL_FN_NAMES);
    throw new Error(`no model function '${name}'${near ? ` (did you mean '${near}'?)` : ''}; docs/model-api.md lists them`);
  }
  return (fn[name] as (...a: unknown[]) => ReturnType<ModelFns[K]>)(...args);
}

/** Boot a machine on this thread and return a harness for it. */
export function bootModel(o: HarnessOptions): Harness {
  let s;
  try { s = loadedStrategy(o.strategy); } catch {
    const near = closest(o.strategy, knownStrategyNames());
    throw new Error(`bootModel: unknown strategy '${o.strategy}'${near ? ` (did you mean '${near}'?)` : ''}: a generation (l21, head), a built-in strategy, or a patch loaded with loadStrategy`);
  }
  const vcpus = o.vcpus ?? [1];
  const devices = o.devices ?? 0;
  const { machine, world } = bootMachine({
    dom0Vcpus: vcpus[0], domUVcpus: vcpus.slice(1), hw: stressHw(devices, o.msix === true, o.msi === true),
    bootDevices: o.boot === false ? [] : Array.from({ length: devices }, (_, i) => deviceSbdf(i)),
    strategy: o.strategy, threads: 1, heapWords: o.heapWords ?? 1 << 16,
  });
  set_current(world.vcpus[0][0]);
  return harnessOf(machine, world, s.generation.name, o.strategy);
}

function harnessOf(machine: Machine, world: ReturnType<typeof bootMachine>['world'], generation: string, strategy: string): Harness {
  const head = generation === 'head';
  return {
    generation, strategy, domains: world.domains, vcpus: world.vcpus, devices: world.devices,
    setCurrent(v) {
      if (typeof v === 'number') { set_current(v); return; }
      const p = world.vcpus[v[0]]?.[v[1]];
      if (p === undefined) throw new Error(`setCurrent: the machine has no d${v[0]}v${v[1]}`);
      set_current(p);
    },
    bareDevice({ sbdf = (0x1f << 3) | 7, domain = 0 } = {}) {
      const d = world.domains[domain];
      if (d === undefined) throw new Error(`bareDevice: the machine has no domain ${domain}`);
      const pdev = xzalloc(PCI_DEV) as PciDevPtr;
      M[pdev + PCI_DEV.sbdf] = sbdf;
      list_add_alldevs(pdev);
      list_add_pdev(d, pdev);
      const vpci = xzalloc(VPCI) as VpciPtr;
      spin_lock_init(vpci + VPCI.lock, CLASS.vpci_lock);
      M[pdev + PCI_DEV.vpci] = vpci;
      return { pdev, vpci, sbdf };
    },
    addRegister(vpci, read, write, offset, size, data, masks) {
      const r = read ? readHandler(read) : HANDLER.none, w = write ? writeHandler(write) : HANDLER.none;
      if (!masks) return fn.vpci_add_register(vpci, r, w, offset, size, data);
      if (!head) throw new Error('addRegister: masks are HEAD\'s (vpci_add_register_mask, a3c8fb450a); the l21 model has none');
      return fn.vpci_add_register_mask(vpci, r, w, offset, size, data, masks.ro ?? 0, masks.rw1c ?? 0, masks.rsvdp ?? 0, masks.rsvdz ?? 0);
    },
    release() { releaseMachine(machine); },
  };
}
