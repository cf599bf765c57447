// The C backend on Xen HEAD (c447b7308b): HEAD's own vpci, header, cap, rebar, msi, msix and rangeset.c compiled
// against the lab's shim and raced on the lab's machine. Needs a C compiler and a HEAD tree ($VPCI_XEN_HEAD or a
// git export in the cache); CI has neither tree, so there the tests skip and say so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { cBackend, CBackendError, type CBackend } from '../../../lib/cxen/select.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { headTree, noCompiler, skipBecause, TREE_HINT } from '../../helpers-xen.js';

const HINT = `${TREE_HINT.head}; or set VPCI_XEN_HEAD to a HEAD tree`;

describe('C backend on Xen HEAD (compiled from a tree)', function () {
  this.timeout(300_000);
  let tree: string | undefined;
  let c: CBackend;
  let pool: TrialPool;
  before(async function () {
    const cc = noCompiler();
    if (cc) skipBecause(this, cc);
    tree = headTree();
    if (!tree) skipBecause(this, HINT);
    c = await cBackend({ xenSrc: tree });
    pool = createPool(2);
  });
  after(async () => { await pool?.close(); });

  const opts = { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 3000, budgetMs: 240_000, seed: 1 };

  it("links cap.c's capability array in HEAD's Makefile order (rebar, msi, msix), one entry after another", () => {
    assert.equal(c.provenance.generation, 'head');
    assert.equal(c.strategy.generation.name, 'head', 'the C strategy patches the model\'s HEAD machine');
    const addon = new URL(c.strategy.spec).searchParams.get('addon');
    const syms = fs.readFileSync(path.join(path.dirname(addon!), 'symbols.txt'), 'utf8');
    const at = (n: string): number => parseInt(new RegExp(`^([0-9a-f]+) \\w ${n}$`, 'm').exec(syms)![1], 16);
    const [rebar, msi, msix, start, stop] = ['REBAR_entry', 'MSI_entry', 'MSIX_entry', '__start_vpci_array', '__stop_vpci_array'].map(at);
    assert.equal(start, rebar);
    assert.equal(msi - rebar, msix - msi, 'entries are packed at their type\'s size (no padding between objects)');
    assert.equal(stop - start, 3 * (msi - rebar));
  });

  it("stale-pdev: HEAD's vpci_process_pending reads the freed pdev after read_lock (use-after-free), as the model's upstream", async () => {
    const { url, scenario } = await loadScenario('stale-pdev');
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    assert.equal(r.complete, true);
    assert.ok(r.outcomes['use-after-free']?.where.includes('vpci_process_pending'), JSON.stringify(r.outcomes));
    assert.equal(r.outcomes['use-after-free']?.minPreemptions, 1);
    assert.match(r.firstFailure!.message, /freed block.*compiled C/);
    const ts = await verify(pool, url, scenario, 'upstream', opts);
    assert.deepEqual(Object.keys(r.outcomes).sort(), Object.keys(ts.outcomes).sort(), 'the same outcome kinds as the TypeScript HEAD');
  });

  it('alldevs-walk: the compiled pci_get_pdev yields at each alldevs_list node, so the removal frees the node the walk stands on, as in the model', async () => {
    const { url, scenario } = await loadScenario('alldevs-walk');
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    const ts = await verify(pool, url, scenario, 'upstream', opts);
    assert.equal(r.complete, true);
    assert.deepEqual(r.outcomes['use-after-free']?.where, ['pci_get_pdev'], JSON.stringify(r.outcomes));
    assert.deepEqual(ts.outcomes['use-after-free']?.where, ['pci_get_pdev'], 'the model names the walk\'s read for pci_get_pdev too');
    assert.equal(r.outcomes['use-after-free']?.minPreemptions, ts.outcomes['use-after-free']?.minPreemptions);
  });

  it("MSI and MSI-X run in the C: a hidden device's MSI enable trips the arch hook's lock check, and the guest's table access reaches msix.c's handler on a freed table (as upstream)", async () => {
    const cases = [['hidden-msi', 'assert', 'vpci_msi_arch_enable'], ['hidden-msix-remove', 'use-after-free', 'msix_find']] as const;
    for (const [name, outcome, where] of cases) {
      const { url, scenario } = await loadScenario(name);
      const r = await verify(pool, url, scenario, c.strategy.name, opts);
      assert.deepEqual(r.outcomes[outcome]?.where, [where], `${name}: ${JSON.stringify(r.outcomes)}`);
      assert.equal(r.outcomes.ok, undefined, name);
    }
  });

  it('bad input is one line: a 4.17 patch on HEAD names its hunk', async () => {
    const p = fileURLToPath(new URL('../../../../examples/patches/pcidevs.patch', import.meta.url));
    await assert.rejects(cBackend({ xenSrc: tree, patches: [p] }), (e: unknown) => e instanceof CBackendError && /pcidevs\.patch: .*hunk/.test((e as Error).message) && !(e as Error).message.includes('\n'));
  });
});
