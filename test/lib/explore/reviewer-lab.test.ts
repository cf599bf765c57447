// Lab-input errors named as such (issue 22): an actor or a patch that never reaches a yield point is the user's
// file's error, named with the vCPU and the function, not a `hang` blamed on the strategy.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadStrategy } from '../../../lib/strategy/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce, type ReproOptions } from '../../../lib/explore/repro.js';

const fx = (name: string): string => fileURLToPath(new URL(`../../../../test/fixtures/reviewer/${name}`, import.meta.url));

describe('lab-input errors: no yield point', function () {
  this.timeout(60_000);
  let pool: TrialPool;
  // Workers started before the short-budget runs: a cold pool on a loaded machine may take seconds to start.
  before(async () => {
    pool = createPool(2);
    const { url, scenario } = await loadScenario('crash-path-3');
    await reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'random', pctDepth: 3, seed: 1 });
  });
  after(async () => { await pool.close(); });
  // A shorter trial budget keeps the test quick; the CLI's is 15 s.
  const o: ReproOptions = { runs: 1, chooser: 'random', pctDepth: 3, seed: 1, budgetMs: 5000 };

  it("a patch's vpci_read that spins: named with the vCPU, the patch and the function", async () => {
    const s = await loadStrategy(fx('spins.mjs'));
    const { url, scenario } = await loadScenario('crash-path-3');
    await assert.rejects(reproduce(pool, url, scenario, s.name, o),
      (e: Error) => e.name === 'ScenarioError' && /d0v\d ran [\d.]+ s inside the patch's vpci_read \(spins, .*spins\.mjs\) without reaching a yield point/.test(e.message));
  });
  it('an actor that spins: named with the vCPU and the actor', async () => {
    const { url, scenario } = await loadScenario(fx('spin-actor.scenario.mjs'));
    await assert.rejects(reproduce(pool, url, scenario, 'baseline', o),
      (e: Error) => e.name === 'ScenarioError' && /d0v1 ran [\d.]+ s inside its actor \(scenario spin-actor\) without reaching a yield point/.test(e.message));
  });
});
