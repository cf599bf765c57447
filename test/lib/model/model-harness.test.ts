// The model as an API (issue 22): `vpci-lab/model` boots a machine of either generation by generation name, sets
// `current`, makes a bare device, registers handlers given as functions, calls model functions by Xen name, and
// gives a patch the list helpers to rewrite pci_remove_device from scratch.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  bootModel, callModel, current, fn, M, PCI_DEV, DOMAIN, NULL, LIST_POISON1, list_del, ALLDEVS_LIST, loadStrategy, type ReadHandler,
} from 'vpci-lab/model';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';

describe('vpci-lab/model as a harness', function () {
  this.timeout(120_000);

  for (const gen of ['l21', 'head'] as const) {
    it(`boots the ${gen} generation by name, sets current, and drives a bare device through registered functions`, () => {
      const h = bootModel({ strategy: gen, vcpus: [2, 1] });
      assert.equal(h.generation, gen);
      h.setCurrent([0, 1]);
      assert.equal(current(), h.vcpus[0][1]);
      h.setCurrent(h.vcpus[0][0]);
      const { vpci } = h.bareDevice();
      const seen: number[] = [];
      const read: ReadHandler = (_p, reg, data) => { seen.push(reg); return M[data] >>> 0; };
      assert.equal(h.addRegister(vpci, read, (_p, _r, val, data) => { M[data] = val; }, 0x40, 4, h.bareDevice({ sbdf: 0x1234 }).pdev + PCI_DEV.sbdf), 0);
      assert.equal(callModel('vpci_read', (0x1f << 3) | 7, 0x40, 4), 0x1234, 'the handler read its data: the other bare device\'s sbdf');
      assert.deepEqual(seen, [0x40]);
      assert.equal(callModel('vpci_read', (0x1f << 3) | 7, 0x44, 4) >>> 0, 0xffffffff, 'unhandled: hardware (absent) reads all-ones');
      assert.throws(() => callModel('vpci_raed' as 'vpci_read', 0, 0, 4), /no model function 'vpci_raed' \(did you mean 'vpci_read'\?\)/);
      h.release();
    });
  }

  it('refuses an unknown strategy with the closest name', () => {
    assert.throws(() => bootModel({ strategy: 'l12' }), /unknown strategy 'l12' \(did you mean 'l21'\?\)/);
  });

  it('list_del unlinks a device and poisons its link, on either list', () => {
    const h = bootModel({ strategy: 'head', devices: 2 });
    const [a] = h.devices;
    const pdev = fn.pci_get_pdev(NULL, a, 'test');
    const d = h.domains[0];
    list_del(pdev, d + DOMAIN.pdev_list);
    assert.equal(M[pdev + PCI_DEV.domain_next], LIST_POISON1);
    const onList = (head: number, next: number): boolean => { for (let p = M[head]; p !== NULL; p = M[p + next]) if (p === pdev) return true; return false; };
    assert.equal(onList(d + DOMAIN.pdev_list, PCI_DEV.domain_next), false, 'gone from the domain list');
    assert.equal(onList(ALLDEVS_LIST(), PCI_DEV.alldevs_next), true, 'still on alldevs_list');
    list_del(pdev, ALLDEVS_LIST());
    assert.equal(M[pdev + PCI_DEV.alldevs_next], LIST_POISON1);
    assert.equal(fn.pci_get_pdev(NULL, a, 'test'), NULL, 'gone from alldevs_list');
    assert.equal(onList(ALLDEVS_LIST(), PCI_DEV.alldevs_next), false);
    h.release();
  });

  describe('a patch that rewrites pci_remove_device from scratch', () => {
    let pool: TrialPool;
    before(() => { pool = createPool(2); });
    after(async () => { await pool.close(); });
    it('ends every run of stale-pdev as HEAD does (same seeds)', async () => {
      const s = await loadStrategy(fileURLToPath(new URL('../../../../test/fixtures/reviewer/remove-from-scratch.mjs', import.meta.url)));
      const { url, scenario } = await loadScenario('stale-pdev');
      const o = { runs: 40, chooser: 'random' as const, pctDepth: 3, seed: 11, all: true };
      const mine = await reproduce(pool, url, scenario, s.name, o);
      const head = await reproduce(pool, url, scenario, 'upstream', o);
      assert.deepEqual(mine.outcomes, head.outcomes);
      assert.ok(mine.outcomes['use-after-free'] > 0, 'HEAD\'s stale pdev shows: the rewrite is exercised');
    });
  });
});
