// Runs one actor of a scenario on this worker thread: installs the machine's strategy, becomes the vCPU, hands the
// actor the scenario API (lib entry points wrapped for that vCPU), and returns to the guest at the end.

import { M } from '../lib/mem/machine.js';
import { XEN, xen, set_current } from '../lib/xen/state.js';
import { vcpu_return_to_guest } from '../lib/xen/domain.js';
import { vpci_mmcfg_read, vpci_mmcfg_write } from '../lib/xen/mmio.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove, XEN_DOMCTL_assign_device, XEN_DOMCTL_deassign_device } from '../lib/xen/hypercall.js';
import * as regs from '../lib/hw/pci_regs.js';
import type { World } from '../lib/lab/boot.js';
import type { ActorContext } from '../lib/run/task.js';
import type { Scenario, ScenarioApi } from '../stress/scenario.js';

export interface ScenarioActorArg { url: string; name: string; domain: number; vcpu: number; world: World }

const cache = new Map<string, Promise<Scenario>>();
const REGS = Object.fromEntries(Object.entries(regs).filter(([, v]) => typeof v === 'number')) as Record<string, number>;

export async function prepare(url: string): Promise<Scenario> {
  let p = cache.get(url);
  if (!p) { p = import(url).then((m: { default: Scenario }) => m.default); cache.set(url, p); }
  return p;
}

export async function run(ctx: ActorContext): Promise<void> {
  const a = ctx.arg as ScenarioActorArg;
  const scenario = await prepare(a.url);
  const v = a.world.vcpus[a.domain][a.vcpu];
  set_current(v);
  const ecam = (sbdf: number, reg: number): number => (sbdf << 12) | reg;
  const resume = (): void => vcpu_return_to_guest(v);
  const api: ScenarioApi = {
    name: a.name,
    domain: a.domain,
    dev: (i) => a.world.devices[i],
    read: (sbdf, reg, size) => vpci_mmcfg_read(ecam(sbdf, reg), size) as number,
    write: (sbdf, reg, size, value) => vpci_mmcfg_write(ecam(sbdf, reg), size, value),
    resume,
    add: (sbdf) => PHYSDEVOP_pci_device_add(sbdf),
    remove: (sbdf) => PHYSDEVOP_pci_device_remove(sbdf),
    assign: (d, sbdf) => XEN_DOMCTL_assign_device(a.world.domains[d], sbdf),
    deassign: (d, sbdf) => XEN_DOMCTL_deassign_device(a.world.domains[d], sbdf),
    failNext: (what, n = 1) => { Atomics.add(M, xen(what === 'iommu' ? XEN.iommu_fail_next : XEN.map_fail_next), n); },
    regs: REGS,
  };
  scenario.actors[a.name](api);
  resume();
}
