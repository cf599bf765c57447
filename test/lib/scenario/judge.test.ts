// The one judge: site-qualified expectations, no crash ever acceptable, a wrong expectation shows as a surprise.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { judge, checkExpectations, type Expectations } from '../../../lib/scenario/judge.js';
import { loadScenario, BUILTIN_SCENARIOS, ScenarioError } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { cellText as cell } from '../../../report/explore-cells.js';
import { createPool } from '../../../lib/run/index.js';

const EXPECT: Expectations = {
  baseline: { expected: ['use-after-free', { outcome: 'null-deref', where: 'modify_bars' }], acceptable: ['ok'] },
  '*': { expected: ['ok'] },
};

describe('judge', function () {
  it('a site-qualified entry matches only a crash at that site', () => {
    assert.equal(judge(EXPECT, 'baseline', 'null-deref', 'modify_bars'), 'expected');
    assert.equal(judge(EXPECT, 'baseline', 'null-deref', 'vpci_process_pending'), 'forbidden');
    assert.equal(judge(EXPECT, 'baseline', 'null-deref'), 'forbidden');
  });
  it('a plain entry matches the outcome at any site; unlisted outcomes are forbidden', () => {
    assert.equal(judge(EXPECT, 'baseline', 'use-after-free', 'vpci_read'), 'expected');
    assert.equal(judge(EXPECT, 'baseline', 'ok'), 'acceptable');
    assert.equal(judge(EXPECT, 'baseline', 'deadlock'), 'forbidden');
  });
  it("'*' covers strategies not listed, and a listed strategy does not fall back to it", () => {
    assert.equal(judge(EXPECT, 'upstream', 'ok'), 'expected');
    assert.equal(judge(EXPECT, 'upstream', 'use-after-free', 'vpci_read'), 'forbidden');
    assert.equal(judge({ baseline: { expected: ['bug'] } }, 'upstream', 'ok'), 'forbidden');
  });
  it('refuses crashes, deadlock and hang in acceptable, unknown outcomes and sites without a name', () => {
    for (const o of ['null-deref', 'use-after-free', 'double-free', 'assert', 'bug', 'deadlock', 'hang', 'restart-budget']) {
      assert.match(checkExpectations({ x: { acceptable: [o] } }) ?? '', /never acceptable/, o);
      assert.match(checkExpectations({ x: { acceptable: [{ outcome: o, where: 'f' }] } }) ?? '', /never acceptable/, o);
    }
    assert.equal(checkExpectations({ x: { expected: ['deadlock', { outcome: 'assert', where: 'modify_bars' }], acceptable: ['ok', 'stale-mapping', 'domain-crashed'] } }), undefined);
    assert.match(checkExpectations({ x: { expected: ['boom'] } }) ?? '', /unknown outcome 'boom'/);
    assert.match(checkExpectations({ x: { expected: [{ outcome: 'assert' }] } }) ?? '', /needs where/);
    assert.match(checkExpectations({ x: { expected: 'ok' } }) ?? '', /must be an array/);
  });
  it('every built-in scenario loads (none lists a crash as acceptable)', async () => {
    for (const name of BUILTIN_SCENARIOS) await loadScenario(name);
  });
  it('loadScenario refuses a scenario that accepts a crash, naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-judge-'));
    const f = path.join(dir, 'lenient.mjs');
    fs.writeFileSync(f, `export default { name: 'lenient', description: '', actors: { d0v0(x) { x.resume(); } },
      expect: { baseline: { expected: ['ok'], acceptable: ['use-after-free'] } } };`);
    try {
      await assert.rejects(loadScenario(f), (e: Error) => e instanceof ScenarioError && /lenient: expect\.baseline\.acceptable lists 'use-after-free'/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('judge control: a deliberately wrong expectation is a surprise', function () {
  this.timeout(60_000);
  it("crash-path-1 under baseline, expecting its crash at the wrong site, shows '!' and keeps the surprise", async () => {
    const pool = createPool(2);
    try {
      const { url, scenario } = await loadScenario('crash-path-1');
      const wrong = { ...scenario, expect: { baseline: { expected: [{ outcome: 'null-deref' as const, where: 'vpci_read' }] } } };
      const r = await reproduce(pool, url, wrong, 'baseline', { runs: 5, chooser: 'pct', pctDepth: 3, seed: 1, all: true });
      assert.ok(r.verdicts.forbidden > 0, JSON.stringify(r.tally));
      assert.ok(r.surprise, 'the first surprise is kept with its schedule');
      assert.match(cell(r), /!/);
      // The same runs judged by the real expectations: no surprise.
      const right = await reproduce(pool, url, scenario, 'baseline', { runs: 5, chooser: 'pct', pctDepth: 3, seed: 1, all: true });
      assert.equal(right.verdicts.forbidden, 0, JSON.stringify(right.tally));
      assert.doesNotMatch(cell(right), /!/);
    } finally {
      await pool.close();
    }
  });
});
