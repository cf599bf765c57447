// vCPU bodies for the stress campaign, run as actors on the pool's worker threads (one OS thread = one pCPU
// running one vCPU). Dom0's vCPU 0 is the toolstack: hypercalls cycling every device through assign, deassign,
// the removal of the DomU's BAR mappings, reset, remove and add. Every other vCPU is a guest poking config space
// through ECAM. Between any two guest-visible steps a vCPU goes through hvm_do_resume, so deferred map/unmap work
// runs on its own thread, as in Xen.

import { M, region, stopped } from '../lib/mem/machine.js';
import { set_current } from '../lib/xen/state.js';
import { vcpu_return_to_guest, domain_is_crashed } from '../lib/xen/domain.js';
import { vpci_mmcfg_read, vpci_mmcfg_write } from '../lib/xen/mmio.js';
import { guest_mmio_read, guest_mmio_write } from '../lib/xen/intercept.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove, PHYSDEVOP_pci_device_reset, XEN_DOMCTL_assign_device, XEN_DOMCTL_deassign_device, XEN_DOMCTL_memory_mapping_remove } from '../lib/xen/hypercall.js';
import {
  PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_BASE_ADDRESS_0, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE, PCI_VENDOR_ID, PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET, PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET,
  PCI_MSIX_VECTOR_BITMASK,
} from '../lib/hw/pci_regs.js';
import { msixLayout } from '../lib/hw/msix.js';
import type { World } from '../lib/lab/boot.js';
import type { ActorContext } from '../lib/run/task.js';
import { WL, BAR0_OFFSETS, deviceBase, MSIX_ENTRIES, msixEntryAddr } from '../lib/lab/workload.js';
import type { VcpuPtr } from '../lib/xen/types.js';

export interface VcpuArg {
  world: World;
  domain: number;          // index into world.domains
  vcpu: number;            // index into world.vcpus[domain]
  seed: number;
  /** Toolstack: device cycles to run. Guests: upper bound on accesses (they stop when the toolstack is done). */
  iterations: number;
}

const ecam = (sbdf: number, reg: number): number => (sbdf << 12) | reg;

function enter(arg: VcpuArg): number {
  const v = arg.world.vcpus[arg.domain][arg.vcpu];
  set_current(v);
  return v;
}

const resume = vcpu_return_to_guest;

/** Dom0 vCPU 0: the toolstack loop. */
export function toolstack(ctx: ActorContext): { cycles: number } {
  const arg = ctx.arg as VcpuArg;
  const v = enter(arg) as VcpuPtr;
  const done = region('workload').base + WL.DONE;
  const { world } = arg;
  const domUs = world.domains.slice(1);
  let cycles = 0;
  try {
    for (let it = 0; it < arg.iterations && !stopped(); it++) {
      const i = it % world.devices.length;
      const sbdf = world.devices[i];
      const domU = domUs.length ? domUs[it % domUs.length] : 0;
      if (domU && !domain_is_crashed(domU)) {
        vpci_mmcfg_write(ecam(sbdf, PCI_COMMAND), 2, 0); // pciback-style reset before assignment
        resume(v);
        if (XEN_DOMCTL_assign_device(domU, sbdf) === 0) {
          resume(v);
          XEN_DOMCTL_deassign_device(domU, sbdf);
          resume(v);
          XEN_DOMCTL_memory_mapping_remove(domU, sbdf);  // the toolstack's own step: HEAD's deassign leaves the p2m
          resume(v);
        }
      }
      PHYSDEVOP_pci_device_reset(sbdf);                  // HEAD physdev.c:71-123; -ENOSYS at late 2021
      resume(v);
      PHYSDEVOP_pci_device_remove(sbdf);
      resume(v);
      for (let tries = 0; tries < 8 && PHYSDEVOP_pci_device_add(sbdf) !== 0; tries++) resume(v);
      resume(v);
      cycles++;
    }
  } finally {
    Atomics.store(M, done, 1);
  }
  return { cycles };
}

/** Any other vCPU: a guest driving its devices' config space. */
export function guest(ctx: ActorContext): { accesses: number } {
  const arg = ctx.arg as VcpuArg;
  const v = enter(arg) as VcpuPtr;
  const done = region('workload').base + WL.DONE;
  const d = arg.world.domains[arg.domain];
  const devs = arg.world.devices;
  let rng = (arg.seed * 2654435761) | 1;
  const next = (): number => { rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5; return rng >>> 0; };
  const msix = devs.map((s) => msixLayout(s));
  let n = 0;
  while (n < arg.iterations && Atomics.load(M, done) === 0 && !stopped() && !domain_is_crashed(d)) {
    const r = next();
    const i = r % devs.length, sbdf = devs[i];
    const l = msix[i];
    const op = (r >>> 8) % (l ? 14 : 10);
    if (op >= 10) { n += msixStep(sbdf, l!.pos, op - 10, r >>> 16, arg.vcpu); n++; resume(v); continue; }
    switch (op) {
      case 0: case 1: case 2:
        vpci_mmcfg_read(ecam(sbdf, PCI_VENDOR_ID), 4);
        break;
      case 3:
        vpci_mmcfg_read(ecam(sbdf, PCI_BASE_ADDRESS_0), 4);
        break;
      case 4: case 5: case 6: {
        const cmd = vpci_mmcfg_read(ecam(sbdf, PCI_COMMAND), 2) as number;
        vpci_mmcfg_write(ecam(sbdf, PCI_COMMAND), 2, (cmd ^ PCI_COMMAND_MEMORY) & 0xffff);
        n++;
        break;
      }
      case 7: {
        const rom = vpci_mmcfg_read(ecam(sbdf, PCI_ROM_ADDRESS), 4) as number;
        vpci_mmcfg_write(ecam(sbdf, PCI_ROM_ADDRESS), 4, (rom ^ PCI_ROM_ADDRESS_ENABLE) >>> 0);
        n++;
        break;
      }
      default: {
        const off = BAR0_OFFSETS[(r >>> 16) & 1];
        vpci_mmcfg_write(ecam(sbdf, PCI_BASE_ADDRESS_0), 4, deviceBase(i) + off);
        break;
      }
    }
    n++;
    resume(v);
  }
  resume(v);
  return { accesses: n };
}

/**
 * One MSI-X step of a guest: read an entry, program its address and data, flip its mask bit (which binds or masks
 * the vector through the arch hooks when MSI-X is on), or flip MSI-X enable in the control register. Returns the
 * number of writes.
 */
function msixStep(sbdf: number, pos: number, kind: number, r: number, vcpu: number): number {
  const entry = r % MSIX_ENTRIES;
  const at = (field: number): number => msixEntryAddr(sbdf, entry, field)!;
  switch (kind) {
    case 0:
      guest_mmio_read(at(PCI_MSIX_ENTRY_DATA_OFFSET), 4);
      return 0;
    case 1:
      guest_mmio_write(at(PCI_MSIX_ENTRY_LOWER_ADDR_OFFSET), 8, [0xfee00000 | (vcpu << 12), 0]);
      guest_mmio_write(at(PCI_MSIX_ENTRY_DATA_OFFSET), 4, 0x30 + entry);
      return 2;
    case 2: {
      const ctrl = guest_mmio_read(at(PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 4) as number;
      guest_mmio_write(at(PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 4, (ctrl ^ PCI_MSIX_VECTOR_BITMASK) >>> 0);
      return 1;
    }
    default: {
      const ctl = vpci_mmcfg_read(ecam(sbdf, pos + PCI_MSIX_FLAGS), 2) as number;
      vpci_mmcfg_write(ecam(sbdf, pos + PCI_MSIX_FLAGS), 2, (ctl ^ PCI_MSIX_FLAGS_ENABLE) & 0xffff);
      return 1;
    }
  }
}
