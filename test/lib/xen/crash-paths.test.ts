// The seed's four crash paths, single-threaded and step by step: one OS thread plays every vCPU by switching
// `current`, and a site hook makes another vCPU act inside a race window. Each ends in the outcome the analysis
// predicts under the late-2021 code; the same sequence without the fault ends ok with mappings consistent.

import assert from 'node:assert/strict';
import { setSiteHook } from '../../../lib/sched/mode.js';
import { SITE } from '../../../lib/trace/sites.js';
import { M } from '../../../lib/mem/machine.js';
import { XEN, xen, set_current } from '../../../lib/xen/state.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove, XEN_DOMCTL_assign_device, XEN_DOMCTL_deassign_device } from '../../../lib/xen/hypercall.js';
import { hvm_do_resume, vcpu_has_pending } from '../../../lib/xen/domain.js';
import { vpci_mmcfg_read, vpci_mmcfg_write } from '../../../lib/xen/mmio.js';
import { p2m_lookup } from '../../../lib/xen/p2m.js';
import { PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_VENDOR_ID, pci_conf_read16 } from '../../../lib/hw/index.js';
import { staleMappingScan } from '../../../lib/check/stale.js';
import type { World } from '../../../lib/lab/boot.js';
import { boot, outcomeOf, crashOf, SBDF_A } from '../../helpers-model.js';
import type { VcpuPtr, DomainPtr } from '../../../lib/xen/types.js';

const ecam = (sbdf: number, reg: number): number => (sbdf << 12) | reg;
const A_BAR0_PFN = 0xe0100;

function as<T>(v: number, fn: () => T): T { set_current(v); return fn(); }
function resume(v: VcpuPtr): void { set_current(v); while (!hvm_do_resume(v)) { /* softirq: again */ } }

afterEach(() => setSiteHook(undefined));

describe('crash path 1: add with decoding on, defer_map, iommu_add_device fails', () => {
  it('baseline: vpci_process_pending dereferences the NULL pdev->vpci (null-deref)', () => {
    const { world } = boot({ inject: { iommuNext: 1 } });
    const [v0] = world.vcpus[0];
    assert.notEqual(as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A)), 0, 'add must fail');
    assert.ok(vcpu_has_pending(v0), 'defer_map left work in the issuing vCPU\'s slot');
    const c = crashOf(() => resume(v0 as VcpuPtr));
    assert.equal(c?.kind, 'null-deref');
    assert.equal(c?.where, 'vpci_process_pending');
    assert.notEqual(p2m_lookup(world.domains[0], A_BAR0_PFN), -1, 'the ranges were consumed (mapped) before the crash');
  });
  it('without the fault: ok, BARs mapped, decoding on, mappings consistent', () => {
    const { world } = boot();
    const [v0] = world.vcpus[0];
    assert.equal(as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A)), 0);
    assert.equal(outcomeOf(() => resume(v0 as VcpuPtr)), 'ok');
    assert.equal(p2m_lookup(world.domains[0], A_BAR0_PFN), A_BAR0_PFN);
    assert.ok(pci_conf_read16(SBDF_A, PCI_COMMAND) & PCI_COMMAND_MEMORY);
    assert.deepEqual(staleMappingScan(world), []);
  });
  it('cancel (v4 02/11) fixes this path: removal cancels current\'s work', () => {
    const { world } = boot({ inject: { iommuNext: 1 }, strategy: 'cancel' });
    const [v0] = world.vcpus[0];
    as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
    assert.ok(!vcpu_has_pending(v0));
    assert.equal(outcomeOf(() => resume(v0 as VcpuPtr)), 'ok');
  });
});

/** Device A added and mapped by Dom0, then both Dom0 vCPUs ask to turn decoding off before either resumes. */
function twoPendingUnmaps(world: World): void {
  const [v0, v1] = world.vcpus[0];
  as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
  resume(v0 as VcpuPtr);
  for (const v of [v0, v1]) as(v, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));
  assert.ok(vcpu_has_pending(v0) && vcpu_has_pending(v1), 'two parallel operations for one device (defer_map FIXME)');
}

describe('crash path 2: a failing vpci_process_pending removes the device while another vCPU has work for it', () => {
  it('baseline: the second vCPU crashes on the NULL pdev->vpci', () => {
    const { world } = boot();
    const [v0, v1] = world.vcpus[0];
    twoPendingUnmaps(world);
    M[xen(XEN.map_fail_next)] = 1;
    assert.equal(outcomeOf(() => resume(v0 as VcpuPtr)), 'ok', 'v0 fails its unmap and removes the device');
    const c = crashOf(() => resume(v1 as VcpuPtr));
    assert.equal(c?.kind, 'null-deref');
    assert.equal(c?.where, 'vpci_process_pending');
  });
  it('without the fault: ok and consistent', () => {
    const { world } = boot();
    const [v0, v1] = world.vcpus[0];
    twoPendingUnmaps(world);
    assert.equal(outcomeOf(() => { resume(v0 as VcpuPtr); resume(v1 as VcpuPtr); }), 'ok');
    assert.equal(p2m_lookup(world.domains[0], A_BAR0_PFN), -1);
    assert.deepEqual(staleMappingScan(world), []);
  });
  it('cancel does not fix it (only current\'s work is cancelled)', () => {
    const { world } = boot({ strategy: 'cancel' });
    const [v0, v1] = world.vcpus[0];
    twoPendingUnmaps(world);
    M[xen(XEN.map_fail_next)] = 1;
    assert.equal(outcomeOf(() => { resume(v0 as VcpuPtr); resume(v1 as VcpuPtr); }), 'null-deref');
  });
  it('upstream (HEAD): the second request already fails ASSERT(rangeset_is_empty(bar->mem)), header.c:357', () => {
    const { world } = boot({ strategy: 'upstream' });
    const c = crashOf(() => twoPendingUnmaps(world));
    assert.equal(c?.kind, 'assert');
    assert.equal(c?.where, 'modify_bars');
    assert.match(c!.message, /rangeset_is_empty\(bar->mem\)/);
  });
  it('upstream (HEAD): a failed unmap purges the BAR rangesets and keeps vPCI (header.c:217-237)', () => {
    const { world } = boot({ strategy: 'upstream' });
    const [v0] = world.vcpus[0];
    resume(v0 as VcpuPtr);
    as(v0, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));
    M[xen(XEN.map_fail_next)] = 1;
    assert.equal(outcomeOf(() => resume(v0 as VcpuPtr)), 'ok');
    assert.ok(!vcpu_has_pending(v0));
    assert.notEqual(as(v0, () => vpci_mmcfg_read(ecam(SBDF_A, PCI_COMMAND), 2)), 0xffff, 'the device still answers through vPCI');
  });
});

describe('crash path 3: a guest config access racing PHYSDEVOP_pci_device_remove', () => {
  function raced(strategy: string, site: number): ReturnType<typeof outcomeOf> {
    const { world } = boot({ strategy });
    const [v0, v1] = world.vcpus[0];
    as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
    resume(v0 as VcpuPtr);
    let fired = false;
    setSiteHook((s) => {
      if (s !== site || fired) return;
      fired = true;
      as(v1, () => vpci_mmcfg_read(ecam(SBDF_A, PCI_VENDOR_ID), 2)); // v1's access lands in v0's window
      set_current(v0);
    });
    const o = outcomeOf(() => as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A)));
    assert.ok(fired, 'the window was reached');
    return o;
  }
  it('baseline: the access finds pdev with pdev->vpci == NULL (null-deref)', () => {
    assert.equal(raced('baseline', SITE['pci_remove_device:after-vpci']), 'null-deref');
  });
  it('baseline: the access finds pdev->vpci freed but not yet NULL (use-after-free)', () => {
    assert.equal(raced('baseline', SITE['vpci_remove_device:after-free']), 'use-after-free');
  });
  it('upstream (HEAD): an access between the owner\'s section and free_pdev finds pdev->vpci NULL (pci.c:875-885)', () => {
    assert.equal(raced('upstream', SITE['pci_remove_device:before-free']), 'ok');
  });
  it('without the race: the access after removal reads hardware, ok', () => {
    const { world } = boot();
    const [v0, v1] = world.vcpus[0];
    as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
    resume(v0 as VcpuPtr);
    as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A));
    assert.equal(as(v1, () => vpci_mmcfg_read(ecam(SBDF_A, PCI_VENDOR_ID), 2)), 0x8086);
  });
});

describe('crash path 4: assign / deassign', () => {
  it('baseline: assign to a DomU, guest use, deassign — completes without crash, mappings consistent', () => {
    const { world } = boot({ vpciGuestSupport: true });
    const [v0] = world.vcpus[0];
    const domU = world.domains[1] as DomainPtr;
    const [u0] = world.vcpus[1];
    const o = outcomeOf(() => {
      as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
      resume(v0 as VcpuPtr);
      as(v0, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));  // reset before assignment (pciback)
      resume(v0 as VcpuPtr);
      assert.equal(as(v0, () => XEN_DOMCTL_assign_device(domU, SBDF_A)), 0);
      resume(v0 as VcpuPtr);
      as(u0, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, PCI_COMMAND_MEMORY));
      resume(u0 as VcpuPtr);
      assert.equal(p2m_lookup(domU, A_BAR0_PFN), A_BAR0_PFN, 'the DomU maps its BAR');
      assert.equal(as(v0, () => XEN_DOMCTL_deassign_device(domU, SBDF_A)), 0);
      resume(v0 as VcpuPtr);
    });
    assert.equal(o, 'ok');
    assert.equal(p2m_lookup(domU, A_BAR0_PFN), -1, 'deassign leaves the DomU no mapping');
    assert.deepEqual(staleMappingScan(world), []);
  });
});
