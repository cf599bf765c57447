// A trial's start is judged in the time its CPUs could run (lib/run/start-clock.ts), and its budget counts from the
// start: a CPU that starts late on a crowded machine is neither "never started" nor a hang.

import assert from 'node:assert/strict';
import { startClock, coreShare } from '../../../lib/run/start-clock.js';
import { createPool, runTrial, type TrialPool } from '../../../lib/run/index.js';
import { basicMachine } from '../../fixtures/actors-basic.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FIX = new URL('../../fixtures/actors-basic.js', import.meta.url).href;

describe('start clock', () => {
  it('counts wall time weighted by the core share', async () => {
    const c = startClock(() => 0.25);
    await sleep(150);
    const ms = c.ms(), wall = c.wallMs();
    assert.ok(wall >= 140, `slept: ${wall}`);
    assert.ok(Math.abs(ms - wall / 4) < 2, `a quarter of ${wall} ms, got ${ms}`);
  });

  it('time without a core does not count', async () => {
    let share = 1;
    const c = startClock(() => share);
    await sleep(120);
    const before = c.ms();
    share = 0;
    await sleep(120);
    assert.ok(before >= 110, `${before}`);
    assert.equal(c.ms(), before);
  });

  it('the share of this machine is in (0, 1]', () => {
    const s = coreShare();
    assert.ok(s > 0 && s <= 1, `${s}`);
  });
});

describe('a late start (real workers)', function () {
  this.timeout(60_000);
  let pool: TrialPool;
  before(() => { pool = createPool(2); });
  after(async () => { await pool.close(); });

  for (const mode of ['controlled', 'free'] as const) {
    it(`${mode}: a CPU that takes 1 s to load is not a start failure, and the 400 ms budget counts from the start`, async () => {
      const late = { module: `${new URL('../../fixtures/late-start.js', import.meta.url).href}?${mode}`, export: 'noop' };
      const r = await runTrial(pool, basicMachine(2), [{ module: FIX, export: 'noop' }, late], { mode, budgetMs: 400, startTimeoutMs: 5000 });
      assert.equal(r.outcome, 'ok');
      assert.ok(r.durationMs >= 900, `the trial waited for the late CPU: ${r.durationMs} ms`);
    });
  }
});
