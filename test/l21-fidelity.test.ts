// Late 2021 exactly: places where the model must do what L21's C does, each with the lines it follows.

import assert from 'node:assert/strict';
import { set_current } from '../lib/xen/state.js';
import { PHYSDEVOP_pci_device_add, PHYSDEVOP_pci_device_remove } from '../lib/xen/hypercall.js';
import { hvm_do_resume } from '../lib/xen/domain.js';
import { boot, crashOf, SBDF_A } from './helpers-model.js';

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
});
