// MSI-X: the capability on the emulated hardware, the table/PBA intercept of msix.c reaching Xen's entries and,
// through the arch hooks, the device's own table; and the msix-race scenario on real threads under baseline (the
// L21 code lets it crash) and upstream (d->pci_lock around the intercept, the table unlinked on removal).

import assert from 'node:assert/strict';
import { M } from '../../../lib/mem/machine.js';
import { CRASH_OUTCOMES } from '../../../lib/mem/crash.js';
import {
  pci_conf_read8, pci_conf_read16, pci_conf_read32, pci_conf_write16, pci_conf_write32, msixLayout, msix_entry_read,
  mmio_read32, PCI_STATUS, PCI_STATUS_CAP_LIST, PCI_CAPABILITY_LIST, PCI_CAP_ID_MSIX, PCI_MSIX_FLAGS, PCI_MSIX_TABLE,
  PCI_MSIX_PBA, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_ENTRY_DATA_OFFSET, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET, PCI_COMMAND,
  PCI_COMMAND_MEMORY,
} from '../../../lib/hw/index.js';
import { pci_find_cap_offset, pci_get_pdev_by_domain } from '../../../lib/xen/pci.js';
import { set_current } from '../../../lib/xen/state.js';
import { fn } from '../../../lib/xen/fn.js';
import { NULL } from '../../../lib/mem/heap.js';
import { p2m_lookup } from '../../../lib/xen/p2m.js';
import { guest_mmio_read } from '../../../lib/xen/intercept.js';
import { DOMAIN, PCI_DEV, VPCI, VPCI_MSIX, MSIX_ENTRY } from '../../../lib/xen/types.js';
import { msix_entry } from '../../../lib/xen/vmsix.js';
import { bootMachine } from '../../../lib/lab/boot.js';
import { stressHw, deviceSbdf, deviceBase, msixEntryAddr, MSIX_ENTRIES, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET } from '../../../lib/lab/workload.js';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadScenario, judge } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { outcomeOf } from '../../helpers-model.js';
import { writeEntry2, enableAndUnmaskEntry2, assertEntry2Programmed } from '../../helpers-msix.js';

const DEV = deviceSbdf(0);
const boot = (strategy = 'baseline') =>
  bootMachine({ dom0Vcpus: 2, domUVcpus: [], hw: stressHw(1, true), bootDevices: [DEV], strategy, threads: 2 });

describe('MSI-X', () => {
  describe('emulated capability', () => {
    it('is found through STATUS.CAP_LIST and the capability list, and sizes to its table and PBA', () => {
      boot();
      assert.ok(pci_conf_read16(DEV, PCI_STATUS) & PCI_STATUS_CAP_LIST);
      const pos = pci_conf_read8(DEV, PCI_CAPABILITY_LIST);
      assert.equal(pci_conf_read8(DEV, pos), PCI_CAP_ID_MSIX);
      assert.equal(pci_find_cap_offset(DEV, PCI_CAP_ID_MSIX), pos, "Xen's walk finds it");
      assert.equal(pci_find_cap_offset(DEV, 0x05), 0, 'no MSI capability');
      assert.equal((pci_conf_read16(DEV, pos + PCI_MSIX_FLAGS) & 0x7ff) + 1, MSIX_ENTRIES, 'QSIZE is entries - 1');
      assert.equal(pci_conf_read32(DEV, pos + PCI_MSIX_TABLE), MSIX_TABLE_OFFSET | 0, 'table offset | BIR 0');
      assert.equal(pci_conf_read32(DEV, pos + PCI_MSIX_PBA), MSIX_PBA_OFFSET | 0);
      assert.deepEqual(msixLayout(DEV), { pos, entries: MSIX_ENTRIES, tableBar: 0, tableOffset: MSIX_TABLE_OFFSET, pbaBar: 0, pbaOffset: MSIX_PBA_OFFSET });
    });

    it('has real writable masks: ENABLE and MASKALL only; table, PBA and size are read-only; entries reset masked', () => {
      boot();
      const pos = pci_conf_read8(DEV, PCI_CAPABILITY_LIST);
      pci_conf_write16(DEV, pos + PCI_MSIX_FLAGS, 0xffff);
      assert.equal(pci_conf_read16(DEV, pos + PCI_MSIX_FLAGS), PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (MSIX_ENTRIES - 1));
      pci_conf_write32(DEV, pos + PCI_MSIX_TABLE, 0xfffffff8);
      assert.equal(pci_conf_read32(DEV, pos + PCI_MSIX_TABLE), MSIX_TABLE_OFFSET);
      pci_conf_write16(DEV, pos, 0);
      assert.equal(pci_conf_read8(DEV, pos), PCI_CAP_ID_MSIX, 'the ID does not change');
      for (let i = 0; i < MSIX_ENTRIES; i++) assert.equal(msix_entry_read(DEV, i, PCI_MSIX_ENTRY_VECTOR_CTRL_OFFSET), 1);
    });

    it('the table answers in memory space only while BAR0 decodes; address bits 1:0 and the PBA are read-only', () => {
      boot();
      const table = deviceBase(0) + MSIX_TABLE_OFFSET;
      assert.equal(mmio_read32(table + 12), 1, 'entry 0 vector control: masked');
      pci_conf_write16(DEV, PCI_COMMAND, 0);
      assert.equal(mmio_read32(table + 12), 0xffffffff, 'nothing decodes with MEMORY off');
      pci_conf_write16(DEV, PCI_COMMAND, PCI_COMMAND_MEMORY);
      assert.equal(mmio_read32(deviceBase(0) + MSIX_PBA_OFFSET), 0);
    });
  });

  describe('L21 msix.c', () => {
    it('init_msix hooks the table on Dom0\'s list and leaves its page out of the p2m, the rest of BAR0 mapped', () => {
      const { world } = boot();
      const d0 = world.domains[0];
      const pdev = pci_get_pdev_by_domain(d0, DEV, 'test');
      const msix = M[M[pdev + PCI_DEV.vpci] + VPCI.msix];
      assert.notEqual(msix, NULL);
      assert.equal(M[d0 + DOMAIN.msix_tables], msix);
      assert.equal(M[msix + VPCI_MSIX.pdev], pdev);
      const tablePfn = (deviceBase(0) + MSIX_TABLE_OFFSET) / 4096, pbaPfn = (deviceBase(0) + MSIX_PBA_OFFSET) / 4096;
      assert.equal(p2m_lookup(d0, tablePfn), -1, 'table page trapped');
      assert.equal(p2m_lookup(d0, pbaPfn), -1, 'PBA page trapped');
      assert.equal(p2m_lookup(d0, deviceBase(0) / 4096), deviceBase(0) / 4096, 'BAR0 page 0 identity-mapped');
    });

    it('a guest table write reaches Xen\'s entry, and an unmask with MSI-X on programs the device entry', () => {
      const { world } = boot();
      set_current(world.vcpus[0][1]);
      const at = writeEntry2(DEV);
      const pdev = pci_get_pdev_by_domain(world.domains[0], DEV, 'test');
      const entry = msix_entry(M[M[pdev + PCI_DEV.vpci] + VPCI.msix], 2);
      assert.equal(M[entry + MSIX_ENTRY.addr_lo] >>> 0, 0xfee01000);
      assert.equal(M[entry + MSIX_ENTRY.data], 0x4041);
      assert.equal(M[entry + MSIX_ENTRY.updated], 1);
      assert.equal(guest_mmio_read(at(PCI_MSIX_ENTRY_DATA_OFFSET), 4), 0x4041, 'read back through msix_read');
      assert.equal(msix_entry_read(DEV, 2, PCI_MSIX_ENTRY_DATA_OFFSET), 0, 'the device is not programmed yet');
      enableAndUnmaskEntry2(DEV, at);                                          // control_write, update_entry
      assert.equal(M[entry + MSIX_ENTRY.updated], 0);
      assertEntry2Programmed(DEV);
    });

    it('after a removal the freed table is still on the list: the next trapped access is a use-after-free (c14aea137e)', () => {
      const { world } = boot();
      set_current(world.vcpus[0][0]);
      assert.equal(fn.pci_remove_device(DEV), 0);
      set_current(world.vcpus[0][1]);
      assert.equal(outcomeOf(() => guest_mmio_read(msixEntryAddr(DEV, 0, 0)!, 4)), 'use-after-free');
    });

    // The unlinking on removal (c14aea137e) is HEAD's cleanup_msix: test/lib/xen/msix-head.test.ts.
  });

  describe('msix-race on real threads', function () {
    this.timeout(120_000);
    let pool: TrialPool;
    before(() => { pool = createPool(2); });
    after(async () => { await pool.close(); });

    it('baseline: a use-after-free within 100 PCT runs, at an expected site', async () => {
      const { url, scenario } = await loadScenario('msix-race');
      const r = await reproduce(pool, url, scenario, 'baseline', { runs: 100, chooser: 'pct', pctDepth: 3, seed: 1 });
      assert.ok(r.firstFailure, `no failure in ${r.runs} runs`);
      assert.equal(r.firstFailure.outcome, 'use-after-free');
      assert.equal(judge(scenario.expect, 'baseline', r.firstFailure.outcome, r.firstFailure.where), 'expected');
    });

    it('upstream: no crash over 100 PCT runs', async () => {
      const { url, scenario } = await loadScenario('msix-race');
      const r = await reproduce(pool, url, scenario, 'upstream', { runs: 100, chooser: 'pct', pctDepth: 3, seed: 1, all: true });
      assert.equal(r.runs, 100);
      for (const o of CRASH_OUTCOMES) assert.equal(r.outcomes[o], 0, `${o} under upstream`);
      assert.equal(r.outcomes.ok, 100);
    });
  });
});
