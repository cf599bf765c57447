// Late 2021 exactly: places where the model must do what L21's C does, each with the lines it follows.

import assert from 'node:assert/strict';
import { set_current } from '../../../lib/xen/state.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove } from '../../../lib/xen/hypercall.js';
import { hvm_do_resume } from '../../../lib/xen/domain.js';
import { setSiteHook } from '../../../lib/sched/mode.js';
import { SITE } from '../../../lib/trace/sites.js';
import { M } from '../../../lib/mem/machine.js';
import { PCI_DEV } from '../../../lib/xen/types.js';
import { pci_get_pdev_by_domain } from '../../../lib/xen/pci.js';
import { LIST_POISON1 } from '../../../lib/xen/list.js';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { FAULT_KINDS } from '../../../lib/sched/fault.js';
import { boot, crashOf, SBDF_A, SBDF_B } from '../../helpers-model.js';
import type { VcpuPtr } from '../../../lib/xen/types.js';

const INIT_FAULTS = fileURLToPath(new URL('../../fixtures/init-faults.js', import.meta.url));

function as<T>(v: number, f: () => T): T { set_current(v); return f(); }

describe('L21 fidelity (4ed7d5525f)', () => {
  it('pci_remove_device calls vpci_remove_device whatever the owner (pci.c:892): a device whose add failed crashes it in has_vpci(NULL)', () => {
    // pci_add_device's error paths (pci.c:839, 847) leave the pdev on alldevs_list with pdev->domain = NULL.
    const { world } = boot({ strategy: 'cancel', inject: { iommuNext: 1 } });
    const [v0] = world.vcpus[0];
    assert.notEqual(as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A)), 0, 'add must fail');
    as(v0, () => { while (!hvm_do_resume(v0 as VcpuPtr)) { /* drain */ } });
    const c = crashOf(() => as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A)));
    assert.equal(c?.kind, 'null-deref');
    assert.equal(c?.where, 'vpci_remove_device');
  });

  it('the same removal under pcidevs crashes too: its drain runs Xen\'s removal, has_vpci(pdev->domain) first, as its C patch does', () => {
    // examples/patches/pcidevs.patch keeps vpci.c:41's order; compiled, it crashes here (scenario remove-failed-add).
    const { world } = boot({ strategy: 'pcidevs', inject: { iommuNext: 1 } });
    const [v0] = world.vcpus[0];
    as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
    as(v0, () => { while (!hvm_do_resume(v0 as VcpuPtr)) { /* drain */ } });
    const c = crashOf(() => as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A)));
    assert.equal(c?.kind, 'null-deref');
    assert.equal(c?.where, 'vpci_remove_device');
  });

  it('list_del leaves LIST_POISON1 (list.h:183-184) and pci_remove_device keeps pdev->domain until free_pdev (pci.c:893-895)', () => {
    const { world } = boot({ strategy: 'baseline', bootDevices: [SBDF_A, SBDF_B] });
    const pdev = pci_get_pdev_by_domain(0, SBDF_A, 'test');
    let next = 0, owner = 0;
    setSiteHook((s) => { if (s === SITE['pci_remove_device:before-free']) { next = M[pdev + PCI_DEV.domain_next]; owner = M[pdev + PCI_DEV.domain]; } });
    try { as(world.vcpus[0][0], () => PHYSDEVOP_pci_device_remove(SBDF_A)); } finally { setSiteHook(undefined); }
    assert.equal(next, LIST_POISON1);
    assert.equal(owner, world.domains[0]);
  });

  describe('init order: init_msix, init_bars, init_msi, each a fault point (vpci.c L21 60-89)', function () {
    this.timeout(60_000);
    let pool: TrialPool;
    before(() => { pool = createPool(1); });
    after(async () => { await pool.close(); });
    const INIT = 1 << FAULT_KINDS.indexOf('init');

    it('baseline: verify finds init_msi failing after init_bars deferred the map (crash path 1 without an IOMMU fault)', async () => {
      const { url, scenario } = await loadScenario(INIT_FAULTS);
      const r = await verify(pool, url, scenario, 'baseline', { bound: 0, reduce: true, kinds: INIT, maxFaults: 1, maxRuns: 1000, budgetMs: 50_000, seed: 1 });
      assert.ok(r.complete);
      assert.equal(r.outcomes['null-deref']?.where.includes('vpci_process_pending'), true, JSON.stringify(r.outcomes));
      assert.match(r.outcomes['null-deref']!.schedule, /:f/, 'the failing run carries its fault choice');
      assert.ok(r.outcomes.ok, 'the runs where no hook, or init_msix/init_bars before any deferral, fails end ok');
    });

    it('pcidevs: the same search is clean (the pending step rechecks pdev->vpci under pcidevs_lock)', async () => {
      const { url, scenario } = await loadScenario(INIT_FAULTS);
      const r = await verify(pool, url, scenario, 'pcidevs', { bound: 0, reduce: true, kinds: INIT, maxFaults: 1, maxRuns: 1000, budgetMs: 50_000, seed: 1 });
      assert.ok(r.complete);
      assert.deepEqual(Object.keys(r.outcomes), ['ok']);
    });
  });
  describe('the unlocked lookup walks alldevs_list with a yield point per node (vpci.c:326, 436; pci.c:611-634)', function () {
    this.timeout(120_000);
    let pool: TrialPool;
    before(() => { pool = createPool(2); });
    after(async () => { await pool.close(); });

    it('alldevs-walk under baseline: the removal frees the node the walk stands on, read in pci_get_pdev_by_domain', async () => {
      // Without a yield point inside the walk the removal can only run before or after the whole lookup: verified.
      const { url, scenario } = await loadScenario('alldevs-walk');
      const r = await verify(pool, url, scenario, 'baseline', { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 2000, budgetMs: 90_000, seed: 1 });
      assert.equal(r.complete, true);
      assert.deepEqual(r.outcomes['use-after-free']?.where, ['pci_get_pdev_by_domain'], JSON.stringify(r.outcomes));
      assert.equal(r.forbidden, 0, 'baseline expects the walk\'s read of the freed node');
      assert.equal(r.firstFailure?.where, 'pci_get_pdev_by_domain');
    });
  });
});
