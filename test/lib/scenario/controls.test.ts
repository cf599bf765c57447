// Controls for the lab's headline claims: each test fails when its claim is false.

import assert from 'node:assert/strict';
import { createPool, runTrial, type TrialPool } from '../../../lib/run/index.js';
import { M, region } from '../../../lib/mem/machine.js';
import { bootMachine } from '../../../lib/lab/boot.js';
import { stressModel } from '../../../lib/lab/workload.js';
import { loadStrategy } from '../../../lib/strategy/index.js';
import { loadScenario, BUILTIN_SCENARIOS } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { judge, type Expectations } from '../../../lib/scenario/judge.js';
import { Campaign } from '../../../lib/explore/campaign.js';
import { basicMachine } from '../../fixtures/actors-basic.js';
import { PROBE } from '../../fixtures/controls-actors.js';
import type { VcpuArg } from '../../../workers/vcpu.js';
import { set_current } from '../../../lib/xen/state.js';
import { DOMAIN } from '../../../lib/xen/types.js';
import { read_lock } from '../../../lib/sync/rwlock.js';
import { PHYSDEVOP_pci_device_remove, MAX_CONTINUATIONS } from '../../../lib/xen/hypercall.js';
import { boot, crashOf, SBDF_A } from '../../helpers-model.js';

// What a stress trial may end in, from the analysis: the defer_map FIXME (stale-mapping) and the DomU policy on
// injected map failures are there under every strategy; pcidevs leaves L21's MSI-X teardown as it was, so a freed
// table can stay on the domain's list (fixed upstream by c14aea137e). Nothing else.
const STRESS_EXPECT: Expectations = {
  pcidevs: { expected: [{ outcome: 'use-after-free', where: 'msix_find' }], acceptable: ['ok', 'stale-mapping', 'domain-crashed'] },
  // HEAD keeps the defer_map FIXME's debug-build ASSERT too (C.3 derived): a second modify_bars while the first is
  // pending fails ASSERT(rangeset_is_empty(bar->mem)) (header.c:357); the drain proposal does not claim to cover it.
  'upstream-drain': { expected: [{ outcome: 'assert', where: 'modify_bars' }], acceptable: ['ok', 'stale-mapping', 'domain-crashed'] },
};

const FIX = new URL('../../fixtures/controls-actors.js', import.meta.url).href;
type Loop = { delays: number; delayedUs: number; ms: number; hash: number };

describe('labels', () => {
  it("rwlock-trylock: a removal that never wins write_trylock ends as 'restart-budget', with the count and the time", async () => {
    await loadStrategy('rwlock-trylock');
    const { world } = boot({ strategy: 'rwlock-trylock', bootDevices: [SBDF_A] });
    const d0 = world.domains[0];
    read_lock(d0 + DOMAIN.vpci_rwlock);          // a reader that never leaves: the remover's trylock always fails
    set_current(world.vcpus[0][0]);
    const c = crashOf(() => PHYSDEVOP_pci_device_remove(SBDF_A));
    assert.equal(c?.kind, 'restart-budget');
    assert.equal(c?.where, 'PHYSDEVOP_pci_device_remove');
    assert.match(c!.message, new RegExp(`continuation budget exceeded: -ERESTART ${MAX_CONTINUATIONS} times in \\d+ ms`));
  });
});

describe('controls', function () {
  this.timeout(240_000);
  let pool: TrialPool;
  before(() => { pool = createPool(4); });
  after(async () => { await pool.close(); });

  describe('--jitter', () => {
    const N = 3000;
    const loops = async (jitter?: { permille: number; maxUs: number; seed?: number }): Promise<Loop[]> => {
      const r = await runTrial(pool, basicMachine(2), [0, 1].map(() => ({ module: FIX, export: 'jitterLoop', arg: { n: N } })), { jitter });
      return r.threads.map((t) => t.value as Loop);
    };

    it('delays the given share of yield points, each CPU as its seed says, and the time is really spent', async () => {
      const a = await loops({ permille: 200, maxUs: 50, seed: 7 });
      const again = await loops({ permille: 200, maxUs: 50, seed: 7 });
      const other = await loops({ permille: 200, maxUs: 50, seed: 8 });
      for (const x of a) assert.ok(x.delays > N * 0.1 && x.delays < N * 0.3, `about 20% of ${N}: ${x.delays}`);
      assert.deepEqual(again.map((x) => [x.hash, x.delays, x.delayedUs]), a.map((x) => [x.hash, x.delays, x.delayedUs]), 'same seed, same pattern');
      assert.notEqual(a[0].hash, a[1].hash, 'each CPU has its own pattern');
      assert.notEqual(other[0].hash, a[0].hash, 'another seed, another pattern');
      for (const x of a) assert.ok(x.ms * 1000 >= x.delayedUs, `the delays take their time: ${x.ms} ms for ${x.delayedUs} us`);
    });

    it('rate and maximum delay are options; without jitter nothing is delayed', async () => {
      for (const x of await loops({ permille: 1000, maxUs: 3, seed: 1 })) { assert.equal(x.delays, N); assert.ok(x.delayedUs <= 2 * N); }
      for (const x of await loops(undefined)) assert.equal(x.delays, 0);
    });
  });

  // With DomU vPCI (off by default, as in Xen) the DomU guests also pass the model's yield points: more CPUs to overlap.
  it('free-running really overlaps: on the stress machine, two CPUs are seen past a yield point at the same moment', async () => {
    // upstream-drain: a strategy whose trials do not end at an early crash, so every trial runs its whole workload.
    await loadStrategy('upstream-drain');
    let overlaps = 0, passes = 0, trials = 0;
    for (; trials < 5 && overlaps === 0; trials++) {
      const { machine, world } = bootMachine(stressModel({ vcpus: 2, domus: 1, devices: 3, vpciGuestSupport: true }, 'upstream-drain', trials + 1, { iommu: 0, map: 0 }));
      const actors = world.vcpus.flatMap((vs, d) => vs.map((_, i) => {
        const arg: VcpuArg = { world, domain: d, vcpu: i, seed: 17 + d * 8 + i, iterations: d === 0 && i === 0 ? 3 : 1_000_000 };
        return { module: FIX, export: d === 0 && i === 0 ? 'probedToolstack' : 'probedGuest', arg };
      }));
      await runTrial(pool, machine, actors, { budgetMs: 20_000 });
      overlaps = M[region('workload').base + PROBE.OVERLAPS];
      passes += M[region('workload').base + PROBE.PASSES];
    }
    assert.ok(passes > 100, `the probe saw the yield points (${passes})`);
    assert.ok(overlaps > 0, `no overlap observed in ${trials} trials (${passes} yield points)`);
    console.log(`      (overlaps seen at ${overlaps} yield points in trial ${trials})`);
  });

  for (const strategy of ['pcidevs', 'upstream-drain']) {
    it(`${strategy}: no forbidden outcome over 250 controlled runs of every built-in scenario`, async () => {
      for (const name of BUILTIN_SCENARIOS) {
        const { url, scenario } = await loadScenario(name);
        const r = await reproduce(pool, url, scenario, strategy, { runs: 250, chooser: 'pct', pctDepth: 3, seed: 21, all: true });
        assert.equal(r.runs, 250);
        assert.equal(r.verdicts.forbidden, 0, `${name}: ${JSON.stringify(r.tally)}`);
      }
    });

    it(`${strategy}: no forbidden outcome in a short stress run`, async () => {
      const c = new Campaign(pool, { shape: { vcpus: 2, domus: 1, devices: 3 }, seed: 5, inject: { iommu: 100, map: 10 }, cyclesPerTrial: 3, trials: 12, timeMs: 60_000 });
      const seen: string[] = [];
      const t = await c.runStrategy(await loadStrategy(strategy), (line) => {
        if (judge(STRESS_EXPECT, strategy, line.outcome, line.where) === 'forbidden') seen.push(`${line.outcome} in ${line.where}: ${line.message}`);
      });
      assert.equal(t.trials, 12);
      assert.ok(t.guestAccesses > 0 && t.removes > 0, 'the workload ran');
      assert.deepEqual(seen, []);
    });
  }
});
