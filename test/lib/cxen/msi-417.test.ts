// Xen 4.17.5's compiled msi.c with x86's MSI arch hooks (native/vmsi-417.c): enabling programs the device with the
// guest's message through the lab's PIRQ stand-ins, a write while enabled rebinds it, disabling unmaps it; a guest
// doing so on real workers reaches the hooks with no lab error. Needs a C compiler and a 4.17 tree
// ($VPCI_XEN_417 or Debian's); skips saying which is missing.

import assert from 'node:assert/strict';
import {
  pci_conf_read8, pci_conf_read16, pci_conf_read32, PCI_CAPABILITY_LIST, PCI_CAP_LIST_ID, PCI_CAP_LIST_NEXT, PCI_CAP_ID_MSI,
  PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_32,
} from '../../../lib/hw/index.js';
import { set_current } from '../../../lib/xen/state.js';
import { fn } from '../../../lib/xen/fn.js';
import { bootMachine } from '../../../lib/lab/boot.js';
import { stressHw, deviceSbdf } from '../../../lib/lab/workload.js';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { cBackend } from '../../../lib/cxen/select.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { xen417OrSkip } from '../../helpers-xen.js';

const DEV = deviceSbdf(0);

describe('MSI on Xen 4.17.5\'s compiled msi.c: the arch hooks of native/vmsi-417.c', function () {
  this.timeout(300_000);
  let strategy: string;
  let pool: TrialPool;
  before(async function () {
    strategy = (await cBackend({ xenSrc: xen417OrSkip(this) })).strategy.name;
    pool = createPool(2);
  });
  after(async () => { await pool?.close(); });

  it('enable programs the device with the message, a data write while enabled rebinds it, disable unmaps', () => {
    const { world } = bootMachine({ dom0Vcpus: 1, domUVcpus: [], hw: stressHw(1, false, true), bootDevices: [DEV], strategy, threads: 1 });
    set_current(world.vcpus[0][0]);
    let pos = pci_conf_read8(DEV, PCI_CAPABILITY_LIST);
    while (pos >= 0x40 && pci_conf_read8(DEV, pos + PCI_CAP_LIST_ID) !== PCI_CAP_ID_MSI) pos = pci_conf_read8(DEV, pos + PCI_CAP_LIST_NEXT);
    assert.ok(pos >= 0x40, 'the device has MSI');
    const hw = (): [number, number, number] => [pci_conf_read32(DEV, pos + PCI_MSI_ADDRESS_LO) >>> 0, pci_conf_read16(DEV, pos + PCI_MSI_DATA_32),
      pci_conf_read16(DEV, pos + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE];
    fn.vpci_write(DEV, pos + PCI_MSI_ADDRESS_LO, 4, 0xfee01000);              // msi.c's handlers keep them
    fn.vpci_write(DEV, pos + PCI_MSI_DATA_32, 2, 0x4041);
    assert.deepEqual(hw(), [0, 0, 0], 'nothing bound yet');
    fn.vpci_write(DEV, pos + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);        // control_write: vpci_msi_arch_enable
    assert.deepEqual(hw(), [0xfee01000, 0x4041, PCI_MSI_FLAGS_ENABLE]);
    fn.vpci_write(DEV, pos + PCI_MSI_DATA_32, 2, 0x4042);                    // update_msi: vpci_msi_arch_update
    assert.deepEqual(hw(), [0xfee01000, 0x4042, PCI_MSI_FLAGS_ENABLE]);
    fn.vpci_write(DEV, pos + PCI_MSI_ADDRESS_LO, 4, 0x12345000);             // not an MSI address: refused, unbound
    assert.deepEqual(hw(), [0xfee01000, 0x4042, PCI_MSI_FLAGS_ENABLE]);
    fn.vpci_write(DEV, pos + PCI_MSI_FLAGS, 2, 0);                           // vpci_msi_arch_disable
    assert.equal(hw()[2], 0, 'disabled in the device');
    assert.equal(fn.vpci_read(DEV, pos + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 0);
  });

  it('a guest enabling MSI on real workers reaches the hooks with no lab error: verified, only ok', async () => {
    const { url, scenario } = await loadScenario('./test/fixtures/msi-enable.scenario.mjs');
    const r = await verify(pool, url, scenario, strategy, { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 3000, budgetMs: 200_000, seed: 1 });
    assert.equal(r.complete, true);
    assert.deepEqual(Object.keys(r.outcomes), ['ok'], JSON.stringify(r.outcomes));
    assert.ok(r.runs > 1, 'the two vCPUs interleave');
  });
});
