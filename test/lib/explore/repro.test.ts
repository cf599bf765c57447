// Controlled reproduction of the seed's crash paths on real worker threads, replay determinism, user scenarios.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { CRASH_OUTCOMES } from '../../../lib/mem/crash.js';
import { loadScenario, BUILTIN_SCENARIOS, judge } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';

describe('repro: controlled races on real threads', function () {
  this.timeout(240_000);
  let pool: TrialPool;
  before(() => { pool = createPool(3); });
  after(async () => { await pool.close(); });

  const find = async (name: string, strategy: string, runs: number) => {
    const { url, scenario } = await loadScenario(name);
    return { scenario, r: await reproduce(pool, url, scenario, strategy, { runs, chooser: 'pct', pctDepth: 3, seed: 1 }) };
  };

  for (const name of ['crash-path-1', 'crash-path-2', 'crash-path-3']) {
    it(`baseline: ${name} crashes within 200 PCT runs (depth 3), as expected`, async () => {
      const { scenario, r } = await find(name, 'baseline', 200);
      assert.ok(r.firstFailure, `no failure in ${r.runs} runs`);
      assert.ok(CRASH_OUTCOMES.has(r.firstFailure.outcome), `crash outcome, got ${r.firstFailure.outcome}`);
      assert.equal(judge(scenario.expect, 'baseline', r.firstFailure.outcome, r.firstFailure.where) === 'forbidden', false);
      assert.match(r.firstFailure.schedule, /^S2:\d+:s1:[0-9a-f]{8}:/);
    });
  }

  it('baseline: crash-path-4 never crashes over 100 runs', async () => {
    const { url, scenario } = await loadScenario('crash-path-4');
    const r = await reproduce(pool, url, scenario, 'baseline', { runs: 100, chooser: 'pct', pctDepth: 3, seed: 7, all: true });
    assert.equal(r.runs, 100);
    for (const o of CRASH_OUTCOMES) assert.equal(r.outcomes[o], 0, `${o} in crash-path-4`);
  });

  it('replaying a failing schedule 10 times gives the same outcome and interleaving', async () => {
    const { url, scenario } = await loadScenario('crash-path-3');
    const first = await reproduce(pool, url, scenario, 'baseline', { runs: 200, chooser: 'pct', pctDepth: 3, seed: 3 });
    const f = first.firstFailure!;
    assert.ok(f);
    for (let i = 0; i < 10; i++) {
      const again = await reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: f.schedule });
      const g = again.firstFailure!;
      assert.equal(g.outcome, f.outcome);
      assert.equal(g.schedule, f.schedule);
      assert.deepEqual(g.events.map((e) => e.label), f.events.map((e) => e.label));
    }
  });

  it('cancel-all: the abba scenario deadlocks, and the report names both device locks', async () => {
    const { r } = await find('abba', 'cancel-all', 200);
    assert.equal(r.firstFailure?.outcome, 'deadlock');
    assert.match(r.firstFailure!.message, /pdev->vpci_lock.*pdev->vpci_lock/);
  });

  it('upstream: every built-in scenario ends in an acceptable outcome (60 runs each)', async () => {
    for (const name of BUILTIN_SCENARIOS) {
      const { url, scenario } = await loadScenario(name);
      const r = await reproduce(pool, url, scenario, 'upstream', { runs: 60, chooser: 'pct', pctDepth: 3, seed: 11, all: true });
      assert.equal(r.verdicts.forbidden, 0, `${name}: ${JSON.stringify(r.outcomes)}`);
    }
  });

  it('a user scenario file runs by path, with no imports of its own', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-scn-'));
    const f = path.join(dir, 'mine.mjs');
    fs.writeFileSync(f, `export default {
      name: 'mine', description: 'remove racing a read',
      machine: { vcpus: [2], devices: 1 },
      actors: {
        d0v0(x) { x.remove(x.dev(0)); },
        d0v1(x) { x.read(x.dev(0), x.regs.PCI_VENDOR_ID, 4); x.resume(); },
      },
      expect: { baseline: { expected: ['use-after-free', 'null-deref'], acceptable: ['ok'] } },
    };`);
    try {
      const { url, scenario } = await loadScenario(f);
      const r = await reproduce(pool, url, scenario, 'baseline', { runs: 200, chooser: 'pct', pctDepth: 3, seed: 5 });
      assert.ok(r.firstFailure && ['use-after-free', 'null-deref'].includes(r.firstFailure.outcome));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
