// Controlled scheduling on real worker threads: one thread at a time, choosers that find a simple atomicity bug,
// exact replay, deadlock and hang detection, schedule strings.

import assert from 'node:assert/strict';
import { createPool, runTrial, type TrialPool, type TrialResult } from '../../../lib/run/index.js';
import { parseSchedule, formatSchedule, ScheduleError, ScheduleDivergence } from '../../../lib/sched/index.js';
import { readRing } from '../../../lib/trace/recorder.js';
import { basicMachine, data, DATA } from '../../fixtures/actors-basic.js';

const FIX = new URL('../../fixtures/actors-basic.js', import.meta.url).href;
const actor = (name: string, arg?: unknown) => ({ module: FIX, export: name, arg });

function events(threads: number): string[] {
  const all = [];
  for (let c = 0; c < threads; c++) all.push(...readRing(c));
  return all.sort((a, b) => a.seq - b.seq).map((e) => `${e.cpu}:${e.ev}:${e.a}:${e.b}`);
}

describe('schedule strings', () => {
  it('round-trips run-length encoded decisions', () => {
    const d = [0, 0, 0, 0, 0, 1, 1, 1, 0, 2, ...Array(12).fill(2)];
    const s = formatSchedule(3, d);
    assert.equal(s, 'S1:3:a5b3ac13');
    const p = parseSchedule(s);
    assert.equal(p.threads, 3);
    assert.deepEqual([...p.decisions], d);
    assert.deepEqual([...parseSchedule(' S1:2:a1b1a ').decisions], [0, 1, 0]);
  });

  it('rejects malformed strings with a ScheduleError saying what is wrong', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /expected S1/],
      ['hello', /expected S1/],
      ['S9:2:ab', /unknown version/],
      ['S1:0:a', /thread count/],
      ['S1:17:a', /thread count/],
      ['S1:x:a', /thread count/],
      ['S1:2:', /no decisions/],
      ['S1:2:abc', /thread 'c'/],
      ['S1:2:a0b', /repeat count/],
      ['S1:2:a05', /repeat count/],
      ['S1:2:A', /unexpected 'A'/],
      ['S1:2:a-1', /unexpected '-'/],
      ['S1:2:a 3', /unexpected ' '/],
      ['S1:2:a3:b', /unexpected ':'/],
    ];
    for (const [s, why] of bad) {
      assert.throws(() => parseSchedule(s), (e: unknown) => e instanceof ScheduleError && why.test((e as Error).message), `'${s}' should be rejected (${why})`);
    }
  });
});

describe('controlled scheduling (real workers)', function () {
  this.timeout(60_000);
  let pool: TrialPool;
  before(() => { pool = createPool(4); });
  after(async () => { await pool.close(); });

  it('runs exactly one thread between two yield points and completes', async () => {
    for (const chooser of ['random', 'pct'] as const) {
      const m = basicMachine(4);
      const r = await runTrial(pool, m, [0, 1, 2, 3].map(() => actor('exclusive', { iters: 30 })), { mode: 'controlled', chooser, seed: 7 });
      assert.equal(r.outcome, 'ok', JSON.stringify(r.threads));
      assert.equal(data(DATA.maxInside), 1, 'two threads were inside at once');
      assert.equal(data(DATA.inside), 0);
      assert.ok(r.steps! > 4 * 30, `steps ${r.steps}`);
      assert.ok(r.threads.every((t) => t.status === 'done' && t.value === 30));
      assert.match(r.schedule!, /^S1:4:[a-d]/);
      assert.equal(new Set(r.threads.map((t) => t.workerId)).size, 4, 'each CPU on its own worker');
    }
  });

  async function findBug(chooser: 'random' | 'pct', runs: number): Promise<{ run: number; r: TrialResult }> {
    for (let run = 0; run < runs; run++) {
      const m = basicMachine(2);
      const r = await runTrial(pool, m, [actor('checkThenAct'), actor('checkThenAct')], { mode: 'controlled', chooser, seed: 1000 + run, pctDepth: 2 });
      if (r.outcome !== 'ok') return { run, r };
      assert.equal(data(DATA.x), 2);
    }
    throw new Error(`${chooser} did not find the lost update in ${runs} runs`);
  }

  it('random walk finds a check-then-act lost update', async () => {
    const { r } = await findBug('random', 50);
    assert.equal(r.outcome, 'assert');
    assert.equal(r.crash?.where, 'checkThenAct');
  });

  it('PCT finds a check-then-act lost update', async () => {
    const { r } = await findBug('pct', 100);
    assert.equal(r.outcome, 'assert');
  });

  it('replaying the failing schedule 10 times repeats the outcome and the interleaving', async () => {
    const { r } = await findBug('random', 50);
    // the events of the original run are gone with its machine: take the first replay as the reference
    let ref: string[] | undefined;
    for (let i = 0; i < 10; i++) {
      const m = basicMachine(2);
      const rr = await runTrial(pool, m, [actor('checkThenAct'), actor('checkThenAct')], { mode: 'controlled', schedule: r.schedule });
      assert.equal(rr.outcome, r.outcome);
      assert.equal(rr.crash?.cpu, r.crash?.cpu);
      assert.equal(rr.schedule, r.schedule);
      const ev = events(2);
      if (ref === undefined) ref = ev; else assert.deepEqual(ev, ref);
    }
    assert.ok(ref!.length >= 4);
  });

  it('replays a richer run exactly (locks, rwlock, 3 threads)', async () => {
    const m = basicMachine(3);
    const acts = [0, 1, 2].map(() => actor('exclusive', { iters: 12 }));
    const r = await runTrial(pool, m, acts, { mode: 'controlled', chooser: 'pct', seed: 99, pctDepth: 3 });
    assert.equal(r.outcome, 'ok');
    const ref = events(3);
    for (let i = 0; i < 3; i++) {
      const rr = await runTrial(pool, basicMachine(3), acts, { mode: 'controlled', schedule: r.schedule });
      assert.equal(rr.outcome, 'ok');
      assert.equal(rr.schedule, r.schedule);
      assert.deepEqual(events(3), ref);
    }
  });

  it('an ABBA lock order ends as a deadlock naming both lock classes', async () => {
    let found: TrialResult | undefined;
    for (let run = 0; run < 40 && !found; run++) {
      const m = basicMachine(2);
      const r = await runTrial(pool, m, [actor('abba', { first: 'A' }), actor('abba', { first: 'B' })], { mode: 'controlled', seed: run });
      if (r.outcome === 'deadlock') found = r;
      else assert.equal(r.outcome, 'ok');
    }
    assert.ok(found, 'no deadlock in 40 random runs');
    assert.match(found.deadlock!.cycle, /spinlock A@\d+/);
    assert.match(found.deadlock!.cycle, /spinlock B@\d+/);
    assert.match(found.deadlock!.cycle, /cpu0 waits for .* held by cpu1 -> cpu1 waits for .* held by cpu0/);
    assert.deepEqual(found.deadlock!.cpus, [0, 1]);
    assert.ok(found.threads.every((t) => t.status === 'stopped'));
    // and the deadlock replays
    const again = await runTrial(pool, basicMachine(2), [actor('abba', { first: 'A' }), actor('abba', { first: 'B' })], { mode: 'controlled', schedule: found.schedule });
    assert.equal(again.outcome, 'deadlock');
    assert.equal(again.deadlock!.cycle, found.deadlock!.cycle);
  });

  it('a thread that ends holding a lock leaves the other blocked: deadlock without a cycle, holder named', async () => {
    const r = await runTrial(pool, basicMachine(2), [actor('lockAndLeave'), actor('lockA')], { mode: 'controlled', schedule: 'S1:2:a2b2' });
    assert.equal(r.outcome, 'deadlock');
    assert.match(r.deadlock!.cycle, /^every thread is blocked, no cycle: cpu1 waits for spinlock A@\d+, held by cpu0 \(finished\); holds no lock$/);
    assert.deepEqual(r.threads.map((t) => t.status), ['done', 'stopped']);
  });

  it('a thread looping across yield points forever ends as a hang by step budget', async () => {
    const m = basicMachine(2);
    const r = await runTrial(pool, m, [actor('spinForever'), actor('yieldLoop', { n: 50 })], { mode: 'controlled', maxSteps: 5000, seed: 3 });
    assert.equal(r.outcome, 'hang');
    assert.equal(r.hang?.reason, 'step-budget');
    assert.equal(r.steps, 5000);
    assert.equal(r.threads[0].status, 'stopped');
    // the hang replays too
    const again = await runTrial(pool, basicMachine(2), [actor('spinForever'), actor('yieldLoop', { n: 50 })], { mode: 'controlled', maxSteps: 5000, schedule: r.schedule });
    assert.equal(again.outcome, 'hang');
  });

  it('a crash ends the controlled trial with that outcome and the other threads stop', async () => {
    const m = basicMachine(3);
    const r = await runTrial(pool, m, [actor('yieldLoop', { n: 100_000 }), actor('crashAfter', { steps: 5 }), actor('spinForever')], { mode: 'controlled', seed: 5 });
    assert.equal(r.outcome, 'null-deref');
    assert.deepEqual({ cpu: r.crash?.cpu, where: r.crash?.where }, { cpu: 1, where: 'fixture_crash' });
    assert.equal(r.threads[1].status, 'crash');
    assert.equal(r.threads[0].status, 'stopped');
    assert.equal(r.threads[2].status, 'stopped');
  });

  it('reports a replay that diverges, and a schedule for the wrong thread count', async () => {
    await assert.rejects(
      runTrial(pool, basicMachine(2), [actor('checkThenAct'), actor('checkThenAct')], { mode: 'controlled', schedule: 'S1:2:ab' }),
      (e: unknown) => e instanceof ScheduleDivergence && /schedule ended after 2 decisions/.test((e as Error).message),
    );
    // b finishes after one decision, then the schedule still names b
    await assert.rejects(
      runTrial(pool, basicMachine(2), [actor('noop'), actor('noop')], { mode: 'controlled', schedule: 'S1:2:b3a' }),
      (e: unknown) => e instanceof ScheduleDivergence && /picks b \(cpu1\), which is done/.test((e as Error).message),
    );
    await assert.rejects(
      runTrial(pool, basicMachine(2), [actor('checkThenAct'), actor('checkThenAct')], { mode: 'controlled', schedule: 'S1:2:a2b3' }),
      (e: unknown) => e instanceof ScheduleDivergence && /ended after 4 decisions but the schedule has 5/.test((e as Error).message),
    );
    await assert.rejects(
      runTrial(pool, basicMachine(2), [actor('noop'), actor('noop')], { mode: 'controlled', schedule: 'S1:3:abc' }),
      (e: unknown) => e instanceof ScheduleError && /for 3 thread/.test((e as Error).message),
    );
    // the pool is fine afterwards
    const r = await runTrial(pool, basicMachine(2), [actor('noop'), actor('noop')], { mode: 'controlled' });
    assert.equal(r.outcome, 'ok');
    assert.equal(r.steps, 2); // first token, one hand-over at the first thread's end
  });
});
