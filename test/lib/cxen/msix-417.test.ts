// Xen 4.17.5's compiled msix.c behind the guest's MSI-X table MMIO (native/msix-mmio.c, native/vmsi-417.c): the
// hole vpci_make_msix_hole punches in the lab's p2m, a trapped table write and read through msix.c's handlers, an
// unmask programming the device through the arch hook, and the removal's unlinking (vpci.c:59, c14aea137e). Needs a
// C compiler and a 4.17 tree ($VPCI_XEN_417 or Debian's); skips saying which is missing.

import assert from 'node:assert/strict';
import { msix_entry_read, PCI_MSIX_ENTRY_DATA_OFFSET } from '../../../lib/hw/index.js';
import { set_current } from '../../../lib/xen/state.js';
import { fn } from '../../../lib/xen/fn.js';
import { p2m_lookup } from '../../../lib/xen/p2m.js';
import { guest_mmio_read } from '../../../lib/xen/intercept.js';
import { bootMachine } from '../../../lib/lab/boot.js';
import { stressHw, deviceSbdf, deviceBase, msixEntryAddr, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET } from '../../../lib/lab/workload.js';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { cBackend } from '../../../lib/cxen/select.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { installedDeviceSource } from '../../../lib/strategy/devices.js';
import { staleMappingScan } from '../../../lib/check/stale.js';
import { judgeAs } from '../../../cli/backend.js';
import { xen417OrSkip } from '../../helpers-xen.js';
import { ENTRY2, writeEntry2, enableAndUnmaskEntry2, assertEntry2Programmed } from '../../helpers-msix.js';

const DEV = deviceSbdf(0);

describe('MSI-X table MMIO on Xen 4.17.5\'s compiled msix.c', function () {
  this.timeout(300_000);
  let strategy: string;
  let pool: TrialPool;
  before(async function () {
    strategy = (await cBackend({ xenSrc: xen417OrSkip(this) })).strategy.name;
    pool = createPool(2);
  });
  after(async () => { await pool?.close(); });
  const boot = () => bootMachine({ dom0Vcpus: 2, domUVcpus: [], hw: stressHw(1, true), bootDevices: [DEV], strategy, threads: 2 });
  const opts = { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 3000, budgetMs: 200_000, seed: 1 };

  it('the table and PBA pages are holes in Dom0\'s p2m, and the scan reads them from C\'s vpci_msix', () => {
    const { world } = boot();
    const d0 = world.domains[0];
    assert.equal(p2m_lookup(d0, (deviceBase(0) + MSIX_TABLE_OFFSET) / 4096), -1, 'table page trapped');
    assert.equal(p2m_lookup(d0, (deviceBase(0) + MSIX_PBA_OFFSET) / 4096), -1, 'PBA page trapped');
    assert.equal(p2m_lookup(d0, deviceBase(0) / 4096), deviceBase(0) / 4096, 'BAR0 page 0 identity-mapped');
    const dev = installedDeviceSource()!(world)[0][0];
    assert.deepEqual(dev.msix, { tables: [MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET], maxEntries: 8 });
    assert.deepEqual(staleMappingScan(world), [], 'the holes are the MSI-X frames C keeps');
  });

  it('a trapped table write reaches C\'s entry and reads back; an unmask with MSI-X on programs the device', () => {
    const { world } = boot();
    set_current(world.vcpus[0][1]);
    const at = writeEntry2(DEV);
    assert.equal(guest_mmio_read(at(PCI_MSIX_ENTRY_DATA_OFFSET), 4), ENTRY2.data, 'read back through msix_read');
    assert.equal(msix_entry_read(DEV, 2, PCI_MSIX_ENTRY_DATA_OFFSET), 0, 'the device is not programmed yet');
    enableAndUnmaskEntry2(DEV, at);                                            // compiled control_write, update_entry
    assertEntry2Programmed(DEV);
  });

  it('after a removal 4.17.5 has unlinked the table (vpci.c:59): the next access is unclaimed, all-ones', () => {
    const { world } = boot();
    set_current(world.vcpus[0][0]);
    assert.equal(fn.pci_remove_device(DEV), 0);
    set_current(world.vcpus[0][1]);
    assert.equal(guest_mmio_read(msixEntryAddr(DEV, 0, 0)!, 4), 0xffffffff);
  });

  it('msix-race and msix-abba on real workers: the write\'s freed-table access after the lock, and the ABBA deadlock', async () => {
    const race = await loadScenario('msix-race');
    judgeAs(race.scenario, strategy, 'baseline');             // as the CLI judges a 4.17 build
    const r = await verify(pool, race.url, race.scenario, strategy, opts);
    assert.equal(r.complete, true);
    // msix_find: its walk yields at each table, as the model's, so the removal frees what the walker reads (msix.c:150-158)
    assert.deepEqual(r.outcomes['use-after-free']?.where.slice().sort(), ['get_entry', 'msix_find', 'spin_lock'], JSON.stringify(r.outcomes));
    assert.equal(r.forbidden, 0, 'msix-race lists get_entry beside msix_write');
    const abba = await loadScenario('msix-abba');
    const a = await verify(pool, abba.url, abba.scenario, strategy, opts);
    assert.ok(a.outcomes.deadlock, JSON.stringify(a.outcomes));
  });
});
