// The stale-mapping scan under the C backend reads C's structs (lib/cxen/scan.ts through lib/strategy/devices.ts):
// on a machine booted with the compiled C, in the main thread, and on trials run by real workers. Needs a C
// compiler and a Xen tree (4.17: $VPCI_XEN_417 or Debian's; HEAD: $VPCI_XEN_HEAD); skips saying which is missing.

import assert from 'node:assert/strict';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { cBackend } from '../../../lib/cxen/select.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { installStrategy } from '../../../lib/strategy/index.js';
import { installedDeviceSource } from '../../../lib/strategy/devices.js';
import { staleMappingScan } from '../../../lib/check/stale.js';
import { unmap_mmio_regions, p2m_lookup } from '../../../lib/xen/p2m.js';
import { boot, SBDF_A, SBDF_B } from '../../helpers-model.js';
import { headTree, noCompiler, skipBecause, xen417OrSkip, TREE_HINT } from '../../helpers-xen.js';

const BAR0_A = 0xe0100000 / 4096;

const TREES: Array<{ name: string; tree: (ctx: Mocha.Context) => string }> = [
  { name: 'Xen 4.17.5', tree: (ctx) => xen417OrSkip(ctx) },
  {
    name: 'Xen HEAD', tree: (ctx) => {
      const cc = noCompiler();
      if (cc) skipBecause(ctx, cc);
      return headTree() ?? skipBecause(ctx, `${TREE_HINT.head}; or set VPCI_XEN_HEAD to a HEAD tree`);
    },
  },
];

for (const t of TREES) {
  describe(`stale-mapping scan of C's state (${t.name})`, function () {
    this.timeout(300_000);
    let pool: TrialPool;
    let strategy: string;
    before(async function () {
      const c = await cBackend({ xenSrc: t.tree(this) });
      strategy = c.strategy.name;
      pool = createPool(2);
    });
    after(async () => { await pool?.close(); });

    it('describes C\'s devices and BARs, judges them mapped, and finds a hole punched in Dom0\'s p2m', () => {
      const { world } = boot({ strategy, bootDevices: [SBDF_A, SBDF_B] });
      const src = installedDeviceSource();
      assert.ok(src, 'the C strategy registered a device source');
      const dom0 = src(world)[0];
      assert.deepEqual(dom0.map((d) => d.sbdf).sort(), [SBDF_A, SBDF_B].sort());
      const bar0 = dom0.find((d) => d.sbdf === SBDF_A)!.bars![0];
      assert.deepEqual({ kind: bar0.kind, addr: bar0.addr, guestAddr: bar0.guestAddr, enabled: bar0.enabled }, { kind: 'mem', addr: 0xe0100000, guestAddr: 0xe0100000, enabled: true });
      assert.equal(p2m_lookup(world.domains[0], BAR0_A + 3), BAR0_A + 3);
      assert.deepEqual(staleMappingScan(world), []);
      assert.equal(unmap_mmio_regions(world.domains[0], BAR0_A + 3, 1, BAR0_A + 3), 0);
      const f = staleMappingScan(world);
      assert.deepEqual(f.map((x) => [x.sbdf, x.what]), [[SBDF_A, 'BAR0 enabled but not mapped in d0']]);
      installStrategy('baseline');
      assert.equal(installedDeviceSource(), undefined, 'a TypeScript strategy reads the model\'s structs');
    });

    it('double-modify on real workers: a trial that leaves the stale mapping is classified so, a clean one stays ok', async () => {
      const { url, scenario } = await loadScenario('double-modify');
      const r = await verify(pool, url, scenario, strategy, { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 3000, budgetMs: 200_000, seed: 1 });
      assert.equal(r.complete, true);
      assert.deepEqual(Object.keys(r.outcomes).sort(), ['ok', 'stale-mapping'], JSON.stringify(r.outcomes));
      assert.match(r.firstFailure?.message ?? '', /BAR0 enabled but not mapped in d0/);
      for (const outcome of ['stale-mapping', 'ok'] as const) {
        const schedule = r.outcomes[outcome]!.schedule;
        const one = await reproduce(pool, url, scenario, strategy, { runs: 1, chooser: 'random', pctDepth: 3, seed: 1, schedule });
        assert.equal(one.runs, 1);
        assert.equal(one.outcomes[outcome], 1, `${schedule} replays as ${outcome}: ${JSON.stringify(one.outcomes)}`);
      }
    });
  });
}
