// Replay strings carry what a replay depends on (issue 21, item 4): every command prints S2 (model seed, site
// digest, failed fault points), one interleaving has one string whichever command ran it, a string that meets other
// sites than it recorded is refused, and S1 strings still replay.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { parseSchedule, formatSchedule, formatScheduleV2, ScheduleDivergence } from '../../../lib/sched/schedule.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { verify } from '../../../lib/explore/verify.js';
import type { Outcome } from '../../../lib/mem/crash.js';

const MAP_FAULTS = fileURLToPath(new URL('../../fixtures/map-faults.js', import.meta.url));
const only = (o: Record<Outcome, number>): string => Object.entries(o).find(([, n]) => n > 0)![0];
const s1Of = (s: string): string => { const p = parseSchedule(s); return formatSchedule(p.threads, p.decisions); };

describe('replay strings: S2 from every command', function () {
  this.timeout(240_000);
  let pool: TrialPool;
  before(() => { pool = createPool(3); });
  after(async () => { await pool.close(); });

  // repro replays an S2 string in verify mode (fault points forced from its list): a string a PCT run printed only
  // checks out if that run folded its fault points, allocations included, into the digest as verify does.
  for (const [name, strategy] of [['crash-path-2', 'baseline'], ['stale-pdev', 'upstream']] as const) {
    it(`${name} / ${strategy}: verify and a repro of the same decisions print the same S2 string`, async () => {
      const { url, scenario } = await loadScenario(name);
      const strings: string[] = [];
      await verify(pool, url, scenario, strategy, { bound: 1, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 40, budgetMs: 60_000, seed: 1, onState: (_d, s) => strings.push(s) });
      assert.ok(strings.length >= 10, `${strings.length} verify runs`);
      for (const s of strings.slice(0, 12)) {
        const r = await reproduce(pool, url, scenario, strategy, { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: s1Of(s), all: true });
        assert.equal(r.lastSchedule, s);
      }
    });
  }

  it('a PCT run\'s string, injected faults and all, replays under repro --schedule to the same outcome; without its faults it is refused', async () => {
    const { url, scenario } = await loadScenario(MAP_FAULTS);
    const found: Array<{ s: string; outcome: string; where: string }> = [];
    for (let seed = 1; found.length < 6 && seed < 200; seed++) {
      const r = await reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'random', pctDepth: 3, seed: seed * 7 });
      if (r.lastSchedule!.includes(':f')) found.push({ s: r.lastSchedule!, outcome: only(r.outcomes), where: r.firstFailure?.where ?? '' });
    }
    assert.ok(found.length >= 6 && found.some((f) => f.outcome !== 'ok'), JSON.stringify(found));
    for (const f of found) {
      assert.match(f.s, /^S2:2:s1:[0-9a-f]{8}:[a-b\d]+:f\d+(,\d+)*$/);
      const g = await reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: f.s, all: true });
      assert.deepEqual([only(g.outcomes), g.firstFailure?.where ?? ''], [f.outcome, f.where], f.s);
      assert.equal(g.lastSchedule, f.s);
      const p = parseSchedule(f.s);
      const noFaults = formatScheduleV2(p.threads, p.decisions, p.seed!, p.digest!, []);
      await assert.rejects(reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: noFaults }), ScheduleDivergence, f.s);
    }
  });

  it('a wrong digest is refused, naming the outcome the run met instead; the same decisions as S1 replay, unchecked', async () => {
    const { url, scenario } = await loadScenario('crash-path-1');
    const first = await reproduce(pool, url, scenario, 'baseline', { runs: 50, chooser: 'pct', pctDepth: 3, seed: 1 });
    const f = first.firstFailure!;
    const p = parseSchedule(f.schedule);
    const bad = formatScheduleV2(p.threads, p.decisions, p.seed!, (p.digest! ^ 0x10) >>> 0, []);
    await assert.rejects(reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: bad }),
      (e: Error) => e instanceof ScheduleDivergence && e.message.includes(`it ended in ${f.outcome} in ${f.where}`) && /changed since/.test(e.message));
    const old = await reproduce(pool, url, scenario, 'baseline', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: s1Of(f.schedule) });
    assert.equal(old.firstFailure?.outcome, f.outcome);
    assert.equal(old.firstFailure?.schedule, f.schedule, 'an S1 replay prints the S2 string of the run');
  });
});
