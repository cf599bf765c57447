// The HEAD generation (c447b7308b) step by step: one OS thread plays every vCPU by switching `current`, a site hook
// makes another vCPU act inside a window. Each test cites the Xen lines it checks.

import assert from 'node:assert/strict';
import { setSiteHook } from '../../../lib/sched/mode.js';
import { SITE } from '../../../lib/trace/sites.js';
import { M } from '../../../lib/mem/machine.js';
import { set_current } from '../../../lib/xen/state.js';
import { PHYSDEVOP_pci_device_remove, PHYSDEVOP_pci_device_reset, XEN_DOMCTL_assign_device, XEN_DOMCTL_deassign_device, XEN_DOMCTL_memory_mapping_remove } from '../../../lib/xen/hypercall.js';
import { hvm_do_resume, vcpu_has_pending } from '../../../lib/xen/domain.js';
import { vpci_mmcfg_read, vpci_mmcfg_write } from '../../../lib/xen/mmio.js';
import { p2m_lookup } from '../../../lib/xen/p2m.js';
import { DOMAIN, PCI_DEV, VCPU } from '../../../lib/xen/types.js';
import { pci_get_pdev_by_domain } from '../../../lib/xen/pci.js';
import { LIST_POISON1 } from '../../../lib/xen/list.js';
import { PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_ROM_ADDRESS } from '../../../lib/hw/index.js';
import { staleMappingScan } from '../../../lib/check/stale.js';
import { boot, outcomeOf, crashOf, SBDF_A, SBDF_B } from '../../helpers-model.js';
import type { VcpuPtr, DomainPtr } from '../../../lib/xen/types.js';

const ecam = (sbdf: number, reg: number): number => (sbdf << 12) | reg;
const A_BAR0_PFN = 0xe0100;
function as<T>(v: number, f: () => T): T { set_current(v); return f(); }
function resume(v: VcpuPtr): void { set_current(v); while (!hvm_do_resume(v)) { /* softirq: again */ } }
const pdevOf = (sbdf: number): number => pci_get_pdev_by_domain(0, sbdf, 'test');

afterEach(() => setSiteHook(undefined));

describe('HEAD: vpci_process_pending loads v->vpci.pdev before read_lock(&v->domain->pci_lock) (header.c:179 vs 186)', () => {
  it('upstream: a removal in the window between the load and the lock leaves a freed pdev in hand (use-after-free)', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A] });
    const [v0, v1] = world.vcpus[0];
    as(v1, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));
    assert.ok(vcpu_has_pending(v1));
    let fired = false;
    setSiteHook((s) => {
      if (s !== SITE['vpci_process_pending:before-lock'] || fired) return;
      fired = true;
      assert.equal(as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A)), 0);
      set_current(v1);
    });
    const c = crashOf(() => resume(v1 as VcpuPtr));
    assert.ok(fired, 'the load comes before the lock, with a window between');
    assert.equal(c?.kind, 'use-after-free');
    assert.equal(c?.where, 'vpci_process_pending');
  });
  it('upstream: even without that window, nothing clears v1\'s slot when the pdev is freed (pci.c:875-885)', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A] });
    const [v0, v1] = world.vcpus[0];
    as(v1, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));
    as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A));
    assert.equal(outcomeOf(() => resume(v1 as VcpuPtr)), 'use-after-free');
  });
  it('upstream-drain: removal empties the slot under the lock, the pending step finds nothing to do', () => {
    const { world } = boot({ strategy: 'upstream-drain', bootDevices: [SBDF_A] });
    const [v0, v1] = world.vcpus[0];
    as(v1, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));
    as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A));
    assert.equal(M[v1 + VCPU.vpci_pdev], 0);
    assert.equal(outcomeOf(() => resume(v1 as VcpuPtr)), 'ok');
  });
});

describe('HEAD: device lists', () => {
  it('list_del leaves LIST_POISON1 in the deleted entry (list.h:186); free_pdev unlinks it from alldevs_list (pci.c:460)', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A, SBDF_B] });
    const pdev = pdevOf(SBDF_A);
    let next = 0;
    setSiteHook((s) => { if (s === SITE['free_pdev:after-list_del']) next = M[pdev + PCI_DEV.alldevs_next]; });
    as(world.vcpus[0][0], () => PHYSDEVOP_pci_device_remove(SBDF_A));
    assert.equal(next, LIST_POISON1);
    assert.equal(pdevOf(SBDF_A), 0);
  });
});

describe('HEAD: assign, deassign, reset', () => {
  it('DomUs have no vPCI by default (arch/x86/domain.c:781-791): their config accesses are not trapped', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A, SBDF_B] });
    assert.equal(M[world.domains[1] + DOMAIN.has_vpci], 0);
    assert.equal(M[world.domains[0] + DOMAIN.has_vpci], 1);
  });
  it('deassign leaves the DomU\'s mappings (pci.c:894-959); the toolstack\'s memory_mapping removal takes them away', () => {
    const { world } = boot({ strategy: 'upstream', vpciGuestSupport: true, bootDevices: [SBDF_A, SBDF_B] });
    const [v0] = world.vcpus[0];
    const [u0] = world.vcpus[1];
    const domU = world.domains[1] as DomainPtr;
    as(v0, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, 0));
    resume(v0 as VcpuPtr);
    assert.equal(as(v0, () => XEN_DOMCTL_assign_device(domU, SBDF_A)), 0);
    assert.equal(M[pdevOf(SBDF_A) + PCI_DEV.domain], domU);
    as(u0, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_COMMAND), 2, PCI_COMMAND_MEMORY));
    resume(u0 as VcpuPtr);
    assert.equal(p2m_lookup(domU, A_BAR0_PFN), A_BAR0_PFN, 'the DomU maps its BAR');
    assert.equal(as(v0, () => XEN_DOMCTL_deassign_device(domU, SBDF_A)), 0);
    resume(v0 as VcpuPtr);
    assert.equal(p2m_lookup(domU, A_BAR0_PFN), A_BAR0_PFN, 'Xen left the mapping');
    assert.notDeepEqual(staleMappingScan(world), []);
    assert.equal(as(v0, () => XEN_DOMCTL_memory_mapping_remove(domU, SBDF_A)), 0);
    assert.equal(p2m_lookup(domU, A_BAR0_PFN), -1);
    assert.deepEqual(staleMappingScan(world), []);
  });
  it('PHYSDEVOP_pci_device_reset deassigns then assigns vPCI under the owner\'s write lock (physdev.c:96-120, vpci.h:241-245)', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A, SBDF_B] });
    const [v0] = world.vcpus[0];
    const before = M[pdevOf(SBDF_A) + PCI_DEV.vpci];
    assert.equal(as(v0, () => PHYSDEVOP_pci_device_reset(SBDF_A)), 0);
    resume(v0 as VcpuPtr);
    assert.notEqual(M[pdevOf(SBDF_A) + PCI_DEV.vpci], before, 'a new struct vpci');
    assert.equal((as(v0, () => vpci_mmcfg_read(ecam(SBDF_A, PCI_COMMAND), 2)) as number) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
    assert.deepEqual(staleMappingScan(world), []);
  });
  it('late 2021 has no PHYSDEVOP_pci_device_reset: -ENOSYS', () => {
    const { world } = boot({ strategy: 'baseline', bootDevices: [SBDF_A] });
    assert.equal(as(world.vcpus[0][0], () => PHYSDEVOP_pci_device_reset(SBDF_A)), -38);
  });
});

describe('HEAD: modify_bars with rom_only never subtracts the device\'s own BARs (header.c:479-481)', () => {
  it('a ROM moved over the enabled BAR0, mapped and unmapped, unmaps BAR0 too (Dom0 only; L21 subtracted it)', () => {
    for (const [strategy, lost] of [['upstream', true], ['pcidevs', false]] as const) {
      const { world } = boot({ strategy, bootDevices: [SBDF_A, SBDF_B] });
      const [v0] = world.vcpus[0];
      const rom = (val: number): void => { as(v0, () => vpci_mmcfg_write(ecam(SBDF_A, PCI_ROM_ADDRESS), 4, val)); resume(v0 as VcpuPtr); };
      rom(0xe0100000);               // over BAR0 (enabled, decoding on), ROM still disabled: address only
      rom(0xe0100001);               // enable: map
      rom(0xe0100000);               // disable: unmap
      assert.equal(p2m_lookup(world.domains[0], A_BAR0_PFN) === -1, lost, strategy);
    }
  });
});

describe('HEAD: hidden devices (dom_xen)', () => {
  it('Dom0 finds a hidden device on dom_xen\'s list (vpci.c:495-503) and reads it through vPCI', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A], hiddenDevices: [SBDF_B] });
    const pdev = pci_get_pdev_by_domain(0, SBDF_B, 'test');
    assert.notEqual(M[pdev + PCI_DEV.vpci], 0, 'setup_hwdom_pci_devices gave it vPCI (pci.c:1317-1322)');
    assert.notEqual(M[pdev + PCI_DEV.domain], world.domains[0], 'owned by dom_xen');
    assert.equal((as(world.vcpus[0][0], () => vpci_mmcfg_read(ecam(SBDF_B, PCI_COMMAND), 2)) as number) & PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
  });
  it('Dom0 clearing a hidden device\'s memory decoding trips ASSERT(rw_is_write_locked(&pdev->domain->pci_lock)) in modify_bars (header.c:317 against vpci.c:612-617)', () => {
    const { world } = boot({ strategy: 'upstream', bootDevices: [SBDF_A], hiddenDevices: [SBDF_B] });
    const c = crashOf(() => as(world.vcpus[0][0], () => vpci_mmcfg_write(ecam(SBDF_B, PCI_COMMAND), 2, 0)));
    assert.equal(c?.kind, 'assert');
    assert.equal(c?.where, 'modify_bars');
    assert.match(c!.message, /pdev->domain->pci_lock/);
  });
});
