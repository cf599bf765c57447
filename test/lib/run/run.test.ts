// The trial runner on real workers: one worker per CPU, outcomes, the free-running watchdog (deadlock, hang),
// aborting and replacing workers that do not stop, and a runner that keeps going afterwards.

import assert from 'node:assert/strict';
import {
  createPool, runTrial, TrialError, recordOutcome, readOutcome, clearOutcome, classifyAfter, findCycle, describeCycle,
  type TrialPool, type CpuWait,
} from '../../../lib/run/index.js';
import { basicMachine, data, DATA } from '../../fixtures/actors-basic.js';
import { region } from '../../../lib/mem/machine.js';

const FIX = new URL('../../fixtures/actors-basic.js', import.meta.url).href;
const actor = (name: string, arg?: unknown) => ({ module: FIX, export: name, arg });

describe('trial outcome words', () => {
  it('the first recorded outcome wins; post-trial checks speak only for ok trials', () => {
    basicMachine(2);
    clearOutcome();
    assert.equal(readOutcome(), undefined);
    assert.equal(recordOutcome('use-after-free', 1), true);
    assert.equal(recordOutcome('null-deref', 0), false);
    assert.deepEqual(readOutcome(), { outcome: 'use-after-free', cpu: 1 });
    assert.equal(classifyAfter('ok', 'stale-mapping'), 'stale-mapping');
    assert.equal(classifyAfter('deadlock', 'stale-mapping'), 'deadlock');
    assert.equal(classifyAfter('ok', undefined), 'ok');
  });

  it('finds a cycle in a wait-for graph and names CPUs and lock classes', () => {
    basicMachine(3);
    const a = region('data').base + DATA.lockA, b = region('data').base + DATA.lockB;
    const snap: CpuWait[] = [
      { cpu: 0, waitingOn: 0, held: [] },
      { cpu: 1, waitingOn: b, held: [a] },
      { cpu: 2, waitingOn: a, held: [b] },
    ];
    const c = findCycle(snap)!;
    assert.deepEqual(c.map((w) => w.cpu), [1, 2]);
    assert.equal(describeCycle(c), `cpu1 waits for spinlock B@${b}, held by cpu2 -> cpu2 waits for spinlock A@${a}, held by cpu1`);
    assert.equal(findCycle([{ cpu: 0, waitingOn: a, held: [a] }, { cpu: 1, waitingOn: a, held: [] }]), undefined);
  });
});

describe('trial runner (real workers)', function () {
  this.timeout(60_000);
  let pool: TrialPool;
  before(() => { pool = createPool(4); });
  after(async () => { await pool.close(); });

  it('runs every CPU of a trial concurrently, each on its own worker, and returns what the actors return', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runTrial(pool, basicMachine(4), [0, 1, 2, 3].map(() => actor('noop')));
      assert.equal(r.outcome, 'ok');
      assert.deepEqual(r.threads.map((t) => t.value), [0, 10, 20, 30]);
      assert.equal(new Set(r.threads.map((t) => t.workerId)).size, 4);
      assert.equal(r.schedule, undefined);
    }
  });

  it('free-running: locks under contention complete ok', async () => {
    const r = await runTrial(pool, basicMachine(4), [0, 1, 2, 3].map(() => actor('yieldLoop', { n: 3000 })));
    assert.equal(r.outcome, 'ok');
    assert.ok(r.threads.every((t) => t.status === 'done' && t.value === 3000));
  });

  it('a crash in one thread ends the trial with that outcome (free-running)', async () => {
    const r = await runTrial(pool, basicMachine(2), [actor('yieldLoop', { n: 2000 }), actor('crashAfter', { steps: 10 })]);
    assert.equal(r.outcome, 'null-deref');
    assert.equal(r.crash?.cpu, 1);
    assert.equal(r.crash?.where, 'fixture_crash');
    assert.match(r.crash!.message, /NULL pointer dereference/);
  });

  it('free-running ABBA: the watchdog reports the deadlock cycle, the workers recover, the next trial is ok', async () => {
    const t0 = performance.now();
    const r = await runTrial(pool, basicMachine(2), [actor('abba', { first: 'A', sync: true }), actor('abba', { first: 'B', sync: true })], { graceMs: 500 });
    assert.equal(r.outcome, 'deadlock');
    assert.match(r.deadlock!.cycle, /^cpu0 waits for spinlock B@\d+, held by cpu1 -> cpu1 waits for spinlock A@\d+, held by cpu0$/);
    assert.ok(r.threads.every((t) => t.status === 'stopped' || t.status === 'aborted'), JSON.stringify(r.threads));
    assert.ok(r.threads.some((t) => t.lockdep.some((l) => /lock-order inversion/.test(l.message))), 'lockdep saw the inversion');
    assert.ok(performance.now() - t0 < 3000);
    const next = await runTrial(pool, basicMachine(4), [0, 1, 2, 3].map(() => actor('exclusive', { iters: 10 })));
    assert.equal(next.outcome, 'ok');
    assert.equal(pool.liveWorkers, 4);
  });

  it('a thread that never yields and never stops: hang (no progress), its worker is replaced, the runner goes on', async () => {
    const before = pool.replacedWorkers;
    const r = await runTrial(pool, basicMachine(2), [actor('busyForever'), actor('noop')], { hangMs: 300, graceMs: 300 });
    assert.equal(r.outcome, 'hang');
    assert.equal(r.hang?.reason, 'no-progress');
    assert.match(r.hang!.detail, /cpu0 is running \(last event: .*\); holds no lock/);
    assert.equal(r.aborted, 1);
    assert.equal(r.threads[0].status, 'aborted');
    assert.equal(pool.replacedWorkers, before + 1);
    assert.equal(pool.liveWorkers, 4);
    const next = await runTrial(pool, basicMachine(4), [0, 1, 2, 3].map(() => actor('noop')));
    assert.equal(next.outcome, 'ok');
    assert.equal(new Set(next.threads.map((t) => t.workerId)).size, 4);
  });

  it('the wall-clock budget holds in controlled mode too (a thread that never yields)', async () => {
    const r = await runTrial(pool, basicMachine(2), [actor('busyForever'), actor('yieldLoop', { n: 10 })], { mode: 'controlled', budgetMs: 400, graceMs: 200, seed: 1, chooser: 'replay', schedule: 'S1:2:a' });
    assert.equal(r.outcome, 'hang');
    assert.equal(r.hang?.reason, 'wall-clock');
    assert.equal(r.aborted, 1);
    const next = await runTrial(pool, basicMachine(2), [actor('noop'), actor('noop')], { mode: 'controlled' });
    assert.equal(next.outcome, 'ok');
  });

  it('a lab error (actor missing, actor throws) is a TrialError, not an outcome; the runner goes on', async () => {
    await assert.rejects(runTrial(pool, basicMachine(2), [actor('noop'), actor('noSuchActor')]), (e: unknown) => e instanceof TrialError && /exports no function 'noSuchActor'/.test((e as Error).message));
    await assert.rejects(runTrial(pool, basicMachine(2), [actor('noop'), { module: FIX.replace('actors-basic', 'actors-missing'), export: 'x' }]), (e: unknown) => e instanceof TrialError && /cannot load actor/.test((e as Error).message));
    await assert.rejects(runTrial(pool, basicMachine(2), [actor('throwsTypeError'), actor('yieldLoop', { n: 10 })], { mode: 'controlled' }), (e: unknown) => e instanceof TrialError && /TypeError/.test((e as Error).message));
    const r = await runTrial(pool, basicMachine(2), [actor('checkThenAct'), actor('checkThenAct')], { mode: 'controlled', schedule: 'S1:2:a2b2' });
    assert.equal(r.outcome, 'ok');
    assert.equal(r.schedule, 'S1:2:a2b2');
    assert.equal(data(DATA.x), 2);
    await assert.rejects(runTrial(pool, basicMachine(4), [0, 1, 2, 3, 4].map(() => actor('noop'))), /5 actors but the pool has 4/);
  });
  it('trial after trial on one machine, then on another and back: each trial runs on its own machine (the pool resends a machine only when it changed)', async () => {
    const m1 = basicMachine(2), m2 = basicMachine(2);
    const two = [actor('checkThenAct'), actor('checkThenAct')];
    const x = (m: typeof m1): number => new Int32Array(m.sab)[m.layout.regions.data.base + DATA.x];
    for (let i = 0; i < 3; i++) assert.equal((await runTrial(pool, m1, two, { mode: 'controlled', schedule: 'S1:2:a2b2' })).outcome, 'ok');
    assert.equal((await runTrial(pool, m2, two, { mode: 'controlled', schedule: 'S1:2:a2b2' })).outcome, 'ok');
    // Free-running, two checkThenAct race for real (a lost update or the fixture's ASSERT under load): one acts.
    assert.equal((await runTrial(pool, m1, [actor('checkThenAct'), actor('noop')], { mode: 'free' })).outcome, 'ok');
    assert.deepEqual([x(m1), x(m2)], [7, 2]);
  });

  it('controlled trial after trial with the same actors: no task message after the first, results as lane words, the same results as messages', async () => {
    const m = basicMachine(2);
    const runs = async (specs: ReturnType<typeof actor>[], seed: number): Promise<Array<Record<string, unknown>>> => {
      const out: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 3; i++) {
        const r = await runTrial(pool, m, specs, { mode: 'controlled', chooser: 'random', seed });
        out.push(...r.threads.map((t) => ({ keys: Object.keys(t).join(), ...t, ms: typeof t.ms, workerId: typeof t.workerId })));
      }
      return out;
    };
    const ok = [actor('checkThenAct'), actor('checkThenAct')], crash = [actor('yieldLoop', { n: 50 }), actor('crashAfter', { steps: 3 })];
    const [repeated, words] = [pool.repeated, pool.resultWords];
    const viaWords = [...await runs(ok, 1), ...await runs(crash, 2)];
    assert.ok(pool.repeated - repeated >= 8, `tasks started without a message: ${pool.repeated - repeated}`);
    assert.equal(pool.resultWords - words, 12);
    pool.wordResults = false;
    try {
      const viaMessages = [...await runs(ok, 1), ...await runs(crash, 2)];
      assert.equal(pool.resultWords - words, 12);
      assert.deepStrictEqual(viaWords, viaMessages);
      assert.deepEqual(viaWords.slice(6, 8).map((t) => t.status), ['stopped', 'crash']);
      assert.equal((viaWords[7].crash as { where: string }).where, 'fixture_crash');
    } finally { pool.wordResults = true; }
  });

  for (const mode of ['controlled', 'free'] as const) {
    it(`${mode}: a CPU that does not start in time is a TrialError saying so; the other CPU stops, the runner goes on`, async () => {
      const slow = { module: `${new URL('../../fixtures/slow-start.js', import.meta.url).href}?${mode}`, export: 'noop' }; // a fresh module per test
      const t0 = performance.now();
      // The main thread judges the start in both modes (a free CPU's own barrier wait is only a backup).
      await assert.rejects(runTrial(pool, basicMachine(2), [actor('noop'), slow], { mode, startTimeoutMs: 300 }),
        (e: unknown) => e instanceof TrialError && /only 1 of 2 CPUs started within 300 ms \(of the cores' share they could have, in \d+ ms\)/.test((e as Error).message));
      assert.ok(performance.now() - t0 < 30_000);
      assert.equal((await runTrial(pool, basicMachine(2), [actor('noop'), actor('noop')], { mode })).outcome, 'ok');
    });
  }

  it('refresh: workers past their age are replaced between trials (new thread ids, old ones gone), young ones kept', async () => {
    const ids = async (): Promise<Set<number>> =>
      new Set((await runTrial(pool, basicMachine(4), [0, 1, 2, 3].map(() => actor('noop')))).threads.map((t) => t.workerId));
    const before = await ids();
    assert.equal(await pool.refresh(3_600_000), false);
    assert.deepEqual(await ids(), before);
    const n = pool.refreshed;
    assert.equal(await pool.refresh(0), true);
    assert.equal(pool.refreshed, n + 1);
    const after = await ids();
    assert.equal(after.size, 4);
    assert.ok([...after].every((id) => !before.has(id)), `old workers still run trials: ${[...before]} / ${[...after]}`);
    assert.equal(pool.liveWorkers, 4);
  });
});
