// Late 2021 exactly: places where the model must do what L21's C does, each with the lines it follows.

import assert from 'node:assert/strict';
import { set_current } from '../lib/xen/state.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove } from '../lib/xen/hypercall.js';
import { hvm_do_resume } from '../lib/xen/domain.js';
import { setSiteHook } from '../lib/sched/mode.js';
import { S } from '../lib/trace/sites.js';
import { M } from '../lib/mem/machine.js';
import { PCI_DEV } from '../lib/xen/types.js';
import { pci_get_pdev_by_domain } from '../lib/xen/pci.js';
import { LIST_POISON1 } from '../lib/xen/list.js';
import { boot, crashOf, SBDF_A, SBDF_B } from './helpers-model.js';

function as<T>(v: number, f: () => T): T { set_current(v); return f(); }

describe('L21 fidelity (4ed7d5525f)', () => {
  it('pci_remove_device calls vpci_remove_device whatever the owner (pci.c:892): a device whose add failed crashes it in has_vpci(NULL)', () => {
    // pci_add_device's error paths (pci.c:839, 847) leave the pdev on alldevs_list with pdev->domain = NULL.
    const { world } = boot({ strategy: 'cancel', inject: { iommuNext: 1 } });
    const [v0] = world.vcpus[0];
    assert.notEqual(as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A)), 0, 'add must fail');
    as(v0, () => { while (!hvm_do_resume(v0)) { /* drain */ } });
    const c = crashOf(() => as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A)));
    assert.equal(c?.kind, 'null-deref');
    assert.equal(c?.where, 'vpci_remove_device');
  });

  it('the same removal under pcidevs, which rechecks pdev->vpci first, is clean', () => {
    const { world } = boot({ strategy: 'pcidevs', inject: { iommuNext: 1 } });
    const [v0] = world.vcpus[0];
    as(v0, () => PHYSDEVOP_pci_device_add(SBDF_A));
    as(v0, () => { while (!hvm_do_resume(v0)) { /* drain */ } });
    assert.equal(crashOf(() => as(v0, () => PHYSDEVOP_pci_device_remove(SBDF_A))), undefined);
  });

  it('list_del leaves LIST_POISON1 (list.h:183-184) and pci_remove_device keeps pdev->domain until free_pdev (pci.c:893-895)', () => {
    const { world } = boot({ strategy: 'baseline', bootDevices: [SBDF_A, SBDF_B] });
    const pdev = pci_get_pdev_by_domain(0, SBDF_A, 'test');
    let next = 0, owner = 0;
    setSiteHook((s) => { if (s === S['pci_remove_device:before-free']) { next = M[pdev + PCI_DEV.domain_next]; owner = M[pdev + PCI_DEV.domain]; } });
    try { as(world.vcpus[0][0], () => PHYSDEVOP_pci_device_remove(SBDF_A)); } finally { setSiteHook(undefined); }
    assert.equal(next, LIST_POISON1);
    assert.equal(owner, world.domains[0]);
  });
});
