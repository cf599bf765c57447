// Real, fixed Xen bugs (issue 9 §5): each pre-fix patch file (examples/patches/history/) is refuted by verify on
// its scenario, at the site the commit names; the fixed code is verified within the same bound; the counterexample
// schedule replays to the same crash. And the pre-fix patches change nothing where their bug cannot arise.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadStrategy } from '../../../lib/strategy/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { verify, type VerifyOptions, type VerifyResult } from '../../../lib/explore/verify.js';
import { verdictLine } from '../../../report/verify-text.js';
import { ALL_FAULT_KINDS } from '../../../lib/verify/trace.js';

const file = (name: string): string => fileURLToPath(new URL(`../../../../examples/patches/history/${name}`, import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`../../../../test/fixtures/${name}`, import.meta.url));
const BASE: VerifyOptions = { bound: 2, reduce: true, kinds: 0, maxFaults: 1, maxRuns: 20_000, budgetMs: 60_000, seed: 1 };

interface Bug {
  commit: string; slug: string; prefix: string; fix: string; outcome: string; where: string; preemptions: number;
  /** Every site the search must find the outcome at (the functions the fix changed that the scenario reaches). */
  sites?: string[]; message?: RegExp;
  /** Preemption bound of the test's searches (default 2; the README's figures are K=2 for all). */
  bound?: number;
}
const BUGS: Bug[] = [
  { commit: '6ccb5e308c', slug: 'vpci-null', prefix: 'pre-6ccb5e308c', fix: 'upstream', outcome: 'null-deref', where: 'vpci_read', preemptions: 1,
    sites: ['vpci_read', 'vpci_write'] },
  { commit: 'ee045f3a4a', slug: 'walk-no-vpci', prefix: 'pre-ee045f3a4a', fix: 'upstream', outcome: 'null-deref', where: 'modify_bars', preemptions: 1,
    bound: 1 },
  // One vCPU: no race, every run. The fix is the late-2021 model itself (baseline), the nearest to 2018.
  { commit: '3e568fa9e1', slug: 'guest-runs', prefix: 'pre-3e568fa9e1', fix: 'baseline', outcome: 'stale-mapping', where: 'stale-mapping scan', preemptions: 0,
    message: /BAR0 enabled but not mapped in d0/ },
];

describe('history: real fixed Xen bugs, reproduced from pre-fix patch files', function () {
  this.timeout(120_000);
  let pool: TrialPool;
  before(async () => {
    pool = createPool(3);
    for (const b of BUGS) await loadStrategy(file(`${b.commit}-${b.slug}.mjs`));
  });
  after(async () => { await pool.close(); });

  const check = async (b: Bug, strategy: string, o: Partial<VerifyOptions> = {}): Promise<VerifyResult> => {
    const { url, scenario } = await loadScenario(file(`${b.commit}-${b.slug}.scenario.mjs`));
    return verify(pool, url, scenario, strategy, { ...BASE, ...o });
  };

  for (const b of BUGS) {
    it(`${b.commit}: verify refutes the pre-fix code (${b.outcome} in ${b.where}), the counterexample replays, ${b.fix} is verified`, async () => {
      const pre = await check(b, b.prefix, { bound: b.bound ?? 2 });
      assert.ok(pre.complete);
      const f = pre.firstFailure!;
      assert.ok(f, verdictLine(pre));
      assert.deepEqual([f.outcome, f.where, f.preemptions], [b.outcome, b.where, b.preemptions], verdictLine(pre));
      if (b.message) assert.match(f.message, b.message);
      if (b.sites) assert.deepEqual([...pre.outcomes[f.outcome]!.where].sort(), b.sites);
      assert.equal(pre.forbidden, 0, 'the failure is the one the scenario expects, at its site');
      const { url, scenario } = await loadScenario(file(`${b.commit}-${b.slug}.scenario.mjs`));
      const again = await reproduce(pool, url, scenario, b.prefix, { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: f.schedule });
      assert.deepEqual([again.firstFailure?.outcome, again.firstFailure?.where], [b.outcome, b.where]);
      const fixed = await check(b, b.fix, { bound: b.bound ?? 2 });
      assert.ok(fixed.complete, verdictLine(fixed));
      assert.equal(fixed.firstFailure, null, verdictLine(fixed));
      assert.deepEqual(Object.keys(fixed.outcomes), ['ok']);
      assert.ok(fixed.runs >= pre.runs / 2, `the fixed code's search is as wide: ${fixed.runs} runs against ${pre.runs}`);
    });
  }

  it('6ccb5e308c: with one failing xzalloc in deassign_device\'s vpci_assign_device no race is needed; removal then fails too', async () => {
    const pre = await check(BUGS[0], BUGS[0].prefix, { bound: 0, kinds: ALL_FAULT_KINDS });
    assert.ok(pre.complete && pre.firstFailure);
    assert.deepEqual([pre.firstFailure.outcome, pre.firstFailure.where, pre.firstFailure.preemptions], ['null-deref', 'vpci_read', 0]);
    assert.match(pre.firstFailure.schedule, /:f\d+$/);
    const fixed = await check(BUGS[0], 'upstream', { bound: 0, kinds: ALL_FAULT_KINDS });
    assert.ok(fixed.complete && fixed.firstFailure === null, verdictLine(fixed));
    // ... and the device's removal then meets it in vpci_deassign_device (vpci.c:96), the third function fixed.
    const { url, scenario } = await loadScenario(fixture('history-6ccb-remove.mjs'));
    const rm = await verify(pool, url, scenario, BUGS[0].prefix, { ...BASE, bound: 0, kinds: ALL_FAULT_KINDS });
    assert.deepEqual([rm.firstFailure?.outcome, rm.firstFailure?.where], ['null-deref', 'vpci_deassign_device'], verdictLine(rm));
    assert.equal(rm.forbidden, 0, verdictLine(rm));
    const rmFixed = await verify(pool, url, scenario, 'upstream', { ...BASE, bound: 0, kinds: ALL_FAULT_KINDS });
    assert.ok(rmFixed.complete && rmFixed.firstFailure === null, verdictLine(rmFixed));
  });

  // crash-path-4: every device keeps its vpci outside the assign/deassign windows no read or modify_bars meets, and
  // no deferred work spans two VM entries (general_preempt_check never fires there).
  // hidden-device: HEAD's lookup falls back to dom_xen's devices (vpci.c:495-503), which the rewritten vpci_read
  // must do too for the read to meet the freed pdev there.
  const same = async (name: string, bugs: Bug[]): Promise<void> => {
    const { url, scenario } = await loadScenario(name);
    const fixed = new Map<string, VerifyResult>();
    for (const b of bugs) {
      if (!fixed.has(b.fix)) fixed.set(b.fix, await verify(pool, url, scenario, b.fix, { ...BASE, bound: 1 }));
      const pre = await verify(pool, url, scenario, b.prefix, { ...BASE, bound: 1 });
      const fix = fixed.get(b.fix)!;
      assert.ok(pre.complete && fix.complete);
      assert.deepEqual(Object.keys(pre.outcomes).sort(), Object.keys(fix.outcomes).sort(), `${name}: ${b.prefix}`);
      assert.deepEqual(pre.digests, fix.digests, `${name}: ${b.prefix}: terminal states`);
    }
  };
  it('each pre-fix patch is its fixed code wherever its bug cannot arise: same outcomes and terminal states', async () => {
    await same('crash-path-4', BUGS);
    await same('hidden-device', BUGS.filter((b) => b.fix === 'upstream'));
  });
});
