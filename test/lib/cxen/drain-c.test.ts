// HEAD's passthrough/pci.c compiled: the lab's drain proposal as a real C patch (it changes free_pdev in pci.c and
// vpci_process_pending in header.c) is judged on Xen's own code. Needs a C compiler and a HEAD tree ($VPCI_XEN_HEAD
// or a git export in the cache); CI has no HEAD tree, so there the tests skip and say so.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { cBackend } from '../../../lib/cxen/select.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { headTree, noCompiler, skipBecause, TREE_HINT } from '../../helpers-xen.js';

const DRAIN = fileURLToPath(new URL('../../../../examples/patches/upstream-drain.patch', import.meta.url));
const ALL_FAULTS = 0b1111;   // iommu, map, alloc, init (lib/sched/fault.ts FAULT_KINDS)

describe('HEAD\'s pci.c compiled: the drain proposal as a C patch', function () {
  this.timeout(400_000);
  let tree: string | undefined;
  let pool: TrialPool;
  before(function () {
    const cc = noCompiler();
    if (cc) skipBecause(this, cc);
    tree = headTree();
    if (!tree) skipBecause(this, `${TREE_HINT.head}; or set VPCI_XEN_HEAD to a HEAD tree`);
    pool = createPool(2);
  });
  after(async () => { await pool?.close(); });
  const opts = { bound: 2, reduce: true, kinds: ALL_FAULTS, maxFaults: 1, maxRuns: 5000, budgetMs: 300_000, seed: 1 };

  it('stale-pdev with upstream-drain.patch (free_pdev drains every slot): verified at K=2 with one fault of any kind', async () => {
    const c = await cBackend({ xenSrc: tree, patches: [DRAIN] });
    assert.deepEqual(c.provenance.patches.map((p) => p.path.split('/').pop()), ['upstream-drain.patch']);
    const { url, scenario } = await loadScenario('stale-pdev');
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    assert.equal(r.complete, true);
    assert.deepEqual(Object.keys(r.outcomes), ['ok'], JSON.stringify(r.outcomes));
  });

  it('unpatched, the same search is refuted: the freed pdev read in vpci_process_pending', async () => {
    const c = await cBackend({ xenSrc: tree });
    const { url, scenario } = await loadScenario('stale-pdev');
    const r = await verify(pool, url, scenario, c.strategy.name, { ...opts, kinds: 0, maxFaults: 0 });
    assert.ok(r.outcomes['use-after-free']?.where.includes('vpci_process_pending'), JSON.stringify(r.outcomes));
  });
});
