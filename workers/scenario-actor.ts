// Runs one actor of a scenario on this worker thread: becomes the vCPU, hands the actor the scenario API (lib entry
// points wrapped for that vCPU), and returns to the guest at the end.
//
// A guest cannot act while Xen owes it work: defer_map raises SCHEDULE_SOFTIRQ so that the vCPU does not re-enter
// the guest until vpci_process_pending is done. So every action (config access, hypercall) first returns the vCPU
// to the guest (hvm_do_resume until nothing is pending), as the stress vCPUs do between their steps.
//
// An actor that throws, or calls the API with what the machine does not have, is the scenario's bug: it is reported
// as one line naming the actor, the error and the scenario file's line (a ScenarioFault), never as a lab error.

import { M } from '../lib/mem/machine.js';
import { XEN, xen, set_current, dom_io } from '../lib/xen/state.js';
import { vcpu_return_to_guest } from '../lib/xen/domain.js';
import { vpci_mmcfg_read, vpci_mmcfg_write } from '../lib/xen/mmio.js';
import { guest_mmio_read, guest_mmio_write } from '../lib/xen/intercept.js';
import { msixEntryAddr } from '../lib/lab/workload.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove, PHYSDEVOP_pci_device_reset, PHYSDEVOP_pci_mmcfg_reserved, XEN_DOMCTL_assign_device, XEN_DOMCTL_deassign_device, XEN_DOMCTL_memory_mapping_remove } from '../lib/xen/hypercall.js';
import * as regs from '../lib/hw/pci_regs.js';
import { VPCI_INIT } from '../lib/xen/fault.js';
import { patchFileUrls, loadedStrategy, displayPath, frameIn } from '../lib/strategy/index.js';
import { fileURLToPath } from 'node:url';

type InitHook = (typeof VPCI_INIT)[number];
import type { World } from '../lib/lab/boot.js';
import type { ActorContext } from '../lib/run/task.js';
import type { DomainPtr, VcpuPtr } from '../lib/xen/types.js';

/** What a scenario module gives this worker: its name and one actor per vCPU (stress/scenario.ts has the rest). */
interface Scenario { name: string; actors: Record<string, (x: ScenarioApi, params?: unknown) => void> }

/** What an actor can do: the model's entry points, as a vCPU of its domain. */
export interface ScenarioApi {
  /** This vCPU, e.g. "d0v1"; its domain index (0 = Dom0). */
  readonly name: string;
  readonly domain: number;
  /** sbdf of device i (0-based). */
  dev(i: number): number;
  /** Guest config-space accesses through ECAM (trapped by Xen: vpci_read / vpci_write); each first returns to the guest. */
  read(sbdf: number, reg: number, size: 1 | 2 | 4): number;
  write(sbdf: number, reg: number, size: 1 | 2 | 4, value: number): void;
  /** Return to the guest: hvm_do_resume until pending vPCI work is done (what every exit from Xen does). */
  resume(): void;
  /** Hypercalls (Dom0), each after a return to the guest: return Xen's rc (0 or -errno). */
  add(sbdf: number): number;
  remove(sbdf: number): number;
  assign(domain: number, sbdf: number): number;
  deassign(domain: number, sbdf: number): number;
  /**
   * Guest accesses to dword `field` (PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, _UPPER_ADDR_, _DATA_, _VECTOR_CTRL_OFFSET:
   * 0, 4, 8, 12) of MSI-X table entry `entry`, at the table's current address (machine: { msix: true }), each after
   * a return to the guest. The table page is not mapped, so the access traps: msix_accept, then msix_read /
   * msix_write; an address no table claims reads all-ones.
   */
  msixRead(sbdf: number, entry: number, field: number): number;
  msixWrite(sbdf: number, entry: number, field: number, value: number): void;
  /** PHYSDEVOP_pci_device_reset (HEAD physdev.c:71-123; -ENOSYS on the late-2021 model). */
  reset(sbdf: number): number;
  /** PHYSDEVOP_pci_mmcfg_reserved for the lab's segment (HEAD: re-inits every device's extended capabilities). */
  mmcfgReserved(): number;
  /** XEN_DOMCTL_deassign_device from dom_io (`xl pci-assignable-remove`): a quarantined device back to Dom0. */
  dequarantine(sbdf: number): number;
  /** XEN_DOMCTL_assign_device to dom_io (`xl pci-assignable-add`): sets pdev->quarantine, so a later deassign from a
   *  DomU sends the device back to dom_io even with iommu=no-quarantine. */
  quarantine(sbdf: number): number;
  /** The toolstack's XEN_DOMCTL_memory_mapping removal of a device's BARs from a domain's p2m (after deassign). */
  unmapBars(domain: number, sbdf: number): number;
  /** One-shot faults from now on: fail the next n iommu_add_device / map_mmio_regions calls. */
  failNext(what: 'iommu' | 'map' | InitHook, n?: number): void;
  /** Register offsets and bits (PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_VENDOR_ID, PCI_BASE_ADDRESS_0, PCI_ROM_ADDRESS ...). */
  readonly regs: Readonly<Record<string, number>>;
}

export interface ScenarioActorArg { url: string; name: string; domain: number; vcpu: number; world: World; params?: unknown }

const cache = new Map<string, Promise<Scenario>>();
const REGS = Object.fromEntries(Object.entries(regs).filter(([, v]) => typeof v === 'number')) as Record<string, number>;

/**
 * Scenario modules that export `paramsReadOnly = true` (lib/explore/hunt/interp.ts): their actors never change
 * params, so a worker hands them the params it kept (frozen: a change throws) instead of a fresh copy per run.
 */
const readOnly = new Set<string>();

export async function prepare(url: string): Promise<Scenario> {
  let p = cache.get(url);
  if (!p) {
    p = import(url).then((m: { default: Scenario; paramsReadOnly?: unknown }) => { if (m.paramsReadOnly === true) readOnly.add(url); return m.default; });
    cache.set(url, p);
  }
  return p;
}

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) { for (const v of Object.values(x)) deepFreeze(v); Object.freeze(x); }
  return x;
}

/** The scenario's own mistake; workers/thread.ts reports its message as is (no stack), the CLI exits 2. */
export class ScenarioFault extends Error {
  constructor(message: string) { super(message); this.name = 'ScenarioFault'; }
}

// Model outcomes and trial stops pass through untouched (duck-typed, as in workers/thread.ts).
const isModelSignal = (e: unknown): boolean => ['ModelCrash', 'TrialStopped'].includes((e as Error | undefined)?.name ?? '');

/** "mine.mjs:12": the first frame of the stack that lies in the scenario file. */
export function scenarioLine(stack: string | undefined, url: string): string {
  const f = frameIn(stack, [url]);
  return `${url.slice(url.lastIndexOf('/') + 1)}${f ? `:${f.line}` : ''}`;
}

/** Who a JavaScript error thrown under an actor belongs to: the patch file it was thrown in, else the scenario. */
function blame(err: Error | undefined, what: string, scenario: string, actor: string, url: string): string {
  const f = frameIn(err?.stack, [url, ...patchFileUrls()]);
  if (f && f.url !== url) {
    return `patch ${loadedStrategy(f.url).name} threw ${what} (at ${displayPath(fileURLToPath(f.url))}:${f.line}) while ${actor} ran scenario ${scenario}`;
  }
  return `scenario ${scenario}, actor ${actor} threw ${what} (at ${scenarioLine(err?.stack, url)})`;
}

/** The scenario modules this worker has loaded. */
const loaded = new Map<string, Scenario>();
/** The last argument's API: a campaign's worker runs the same argument object run after run (lib/run/pool.ts). */
let bound: { a: ScenarioActorArg; scenario: Scenario; v: VcpuPtr; api: ScenarioApi; shared: boolean } | undefined;

/** The actor: at once when this worker has its scenario, else once the module has loaded. */
export function run(ctx: ActorContext): void | Promise<void> {
  const a = ctx.arg as ScenarioActorArg;
  if (bound?.a === a) { act(bound); return; }
  const scenario = loaded.get(a.url);
  if (scenario) { act(bound = bind(a, scenario)); return; }
  return prepare(a.url).then((s) => { loaded.set(a.url, s); act(bound = bind(a, s)); });
}

/** The scenario API of one actor argument (its closures read nothing of the machine until called). */
function bind(a: ScenarioActorArg, scenario: Scenario): NonNullable<typeof bound> {
  const v = a.world.vcpus[a.domain][a.vcpu];
  const fault = (what: string): never => {
    const e = new ScenarioFault('');
    e.message = `scenario ${scenario.name}, actor ${a.name}: ${what} (at ${scenarioLine(e.stack, a.url)})`;
    throw e;
  };
  const nDev = a.world.devices.length, nDom = a.world.domains.length;
  const device = (i: unknown): number => {
    if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= nDev) fault(`x.dev(${String(i)}): the machine has ${nDev} device${nDev === 1 ? '' : 's'} (dev(0)..dev(${nDev - 1}))`);
    return a.world.devices[i as number];
  };
  const access = (op: string, sbdf: number, reg: number, size: number): number => {
    if (!Number.isInteger(sbdf) || sbdf < 0 || sbdf > 0xffff) fault(`x.${op}: sbdf ${String(sbdf)} is not a bus/device/function (use x.dev(i))`);
    if (size !== 1 && size !== 2 && size !== 4) fault(`x.${op}: access size ${String(size)} (1, 2 or 4 bytes)`);
    if (!Number.isInteger(reg) || reg < 0 || reg > 4095) fault(`x.${op}: offset ${String(reg)} is outside config space (0..4095)`);
    if (reg + size > 4096) fault(`x.${op}: ${size} bytes at offset ${reg} run past the end of config space (4096)`);
    vcpu_return_to_guest(v);
    return (sbdf << 12) | reg;
  };
  const domain = (op: string, d: unknown): number => {
    if (!Number.isInteger(d) || (d as number) < 0 || (d as number) >= nDom) fault(`x.${op}: domain ${String(d)}: the machine has d0..d${nDom - 1}`);
    return a.world.domains[d as number];
  };
  const hypercall = (f: () => number): number => { vcpu_return_to_guest(v); return f(); };
  /** Where the guest finds dword `field` of MSI-X table entry `entry` of a device (machine: { msix: true }). */
  const msix = (op: string, sbdf: number, entry: number, field: number): number => {
    const addr = msixEntryAddr(sbdf, entry, field);
    if (addr === null) fault(`x.${op}: device ${String(sbdf)} has no MSI-X entry ${String(entry)} with field ${String(field)} (machine: { msix: true }; entries 0..7; fields 0, 4, 8, 12)`);
    vcpu_return_to_guest(v);
    return addr!;
  };
  const api: ScenarioApi = {
    name: a.name,
    domain: a.domain,
    dev: device,
    read: (sbdf, reg, size) => vpci_mmcfg_read(access('read', sbdf, reg, size), size) as number,
    write: (sbdf, reg, size, value) => vpci_mmcfg_write(access('write', sbdf, reg, size), size, value),
    resume: () => vcpu_return_to_guest(v),
    add: (sbdf) => hypercall(() => PHYSDEVOP_pci_device_add(sbdf)),
    remove: (sbdf) => hypercall(() => PHYSDEVOP_pci_device_remove(sbdf)),
    assign: (d, sbdf) => { const dom = domain('assign', d) as DomainPtr; return hypercall(() => XEN_DOMCTL_assign_device(dom, sbdf)); },
    deassign: (d, sbdf) => { const dom = domain('deassign', d) as DomainPtr; return hypercall(() => XEN_DOMCTL_deassign_device(dom, sbdf)); },
    msixRead: (sbdf, entry, field) => guest_mmio_read(msix('msixRead', sbdf, entry, field), 4) as number,
    msixWrite: (sbdf, entry, field, value) => guest_mmio_write(msix('msixWrite', sbdf, entry, field), 4, value >>> 0),
    reset: (sbdf) => hypercall(() => PHYSDEVOP_pci_device_reset(sbdf)),
    mmcfgReserved: () => hypercall(() => PHYSDEVOP_pci_mmcfg_reserved()),
    dequarantine: (sbdf) => hypercall(() => XEN_DOMCTL_deassign_device(dom_io(), sbdf)),
    quarantine: (sbdf) => hypercall(() => XEN_DOMCTL_assign_device(dom_io(), sbdf)),
    unmapBars: (d, sbdf) => { const dom = domain('unmapBars', d); return hypercall(() => XEN_DOMCTL_memory_mapping_remove(dom, sbdf)); },
    failNext: (what, n = 1) => {
      const hook = (VPCI_INIT as readonly string[]).indexOf(what);
      if (what !== 'iommu' && what !== 'map' && hook < 0) fault(`x.failNext('${String(what)}'): 'iommu', 'map' or a vPCI init hook (${VPCI_INIT.join(', ')}; at HEAD init_bars is vpci_init_header)`);
      if (!Number.isInteger(n) || n < 1 || (hook >= 0 && n !== 1)) fault(`x.failNext('${what}', ${String(n)}): a count of 1 or more (exactly 1 for an init hook)`);
      if (hook >= 0) { Atomics.store(M, xen(XEN.init_fail_next), hook + 1); return; }
      Atomics.add(M, xen(what === 'iommu' ? XEN.iommu_fail_next : XEN.map_fail_next), n);
    },
    regs: REGS,
  };
  const shared = typeof a.params !== 'object' || a.params === null || readOnly.has(a.url);
  if (shared) deepFreeze(a.params);
  return { a, scenario, v, api, shared };
}

function act({ a, scenario, v, api, shared }: NonNullable<typeof bound>): void {
  set_current(v);
  try {
    // A worker runs the argument it kept again for a campaign's next run (lib/run/pool.ts): params an actor may
    // change are its own copy each run (a hunt program's, 8 us a CPU a run, are not: they are frozen).
    scenario.actors[a.name](api, shared ? a.params : structuredClone(a.params));
  } catch (e) {
    if (isModelSignal(e) || e instanceof ScenarioFault) throw e;
    // The lab's own gap (lib/cxen/not-supplied.ts): named with where it was reached, never blamed on the scenario.
    if ((e as Error | undefined)?.name === 'NotSupplied') { (e as Error).message += ` in scenario ${scenario.name} (actor ${a.name})`; throw e; }
    const err = e as Error | undefined;
    const what = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(e);
    throw new ScenarioFault(blame(err, what, scenario.name, a.name, a.url));
  }
  vcpu_return_to_guest(v);
}
