// The controlled scheduler's spin-then-park handoff (lib/sched/spin.ts, controlled.ts) under more threads than
// cores, and lock profiling's buckets (lib/sync/profile.ts) against the HdrHistogram they stand for. Every trial
// has a wall-clock budget: a lost wakeup shows as a hang, never as a stuck test.

import assert from 'node:assert/strict';
import { createPool, runTrial, type TrialPool } from '../../../lib/run/index.js';
import { SCHED_HEADER, schedBase } from '../../../lib/sched/state.js';
import { parseSchedule } from '../../../lib/sched/schedule.js';
import { M } from '../../../lib/mem/machine.js';
import { newHistogram, HOLD_SAMPLE, bucketCount, bucketPairs, BUCKET_INDEXES } from '../../../lib/sync/profile.js';
import { CTL, attach, createMachine } from '../../../lib/mem/machine.js';
import * as futex from '../../../lib/sched/futex.js';
import { basicMachine, data, DATA } from '../../fixtures/actors-basic.js';

const ACTORS = new URL('../../fixtures/actors-basic.js', import.meta.url).href;
const actor = (exp: string, arg?: unknown) => ({ module: ACTORS, export: exp, arg });

describe('spin-then-park handoffs (real workers, more threads than cores)', function () {
  this.timeout(120_000);
  const pools: TrialPool[] = [];
  after(async () => { await Promise.all(pools.map((p) => p.close())); });

  // VPCI_CORES=16 lets every waiting thread poll: the most polling places the protocol must hand around.
  for (const [label, cores] of [['as many polling places as threads', '16'], ['this machine\'s cores', undefined]] as const) {
    it(`8 threads, ${label}: every run completes, one thread at a time, every polling place returned`, async () => {
      const saved = process.env.VPCI_CORES;
      if (cores === undefined) delete process.env.VPCI_CORES; else process.env.VPCI_CORES = cores;
      const pool = createPool(8);                          // workers copy the environment when they start
      pools.push(pool);
      if (saved === undefined) delete process.env.VPCI_CORES; else process.env.VPCI_CORES = saved;
      for (let run = 0; run < 12; run++) {
        const m = basicMachine(8);
        const r = await runTrial(pool, m, Array.from({ length: 8 }, () => actor('exclusive', { iters: 40 })), {
          mode: 'controlled', chooser: run % 2 ? 'pct' : 'random', seed: 500 + run, budgetMs: 30_000, spin: 'auto',
        });
        assert.equal(r.outcome, 'ok', `run ${run}: ${r.outcome} ${r.hang?.detail ?? ''}`);
        assert.equal(data(DATA.maxInside), 1, 'two threads were inside at once');
        assert.ok(r.threads.every((t) => t.status === 'done' && t.value === 40));
        assert.equal(M[schedBase + SCHED_HEADER.SPINNERS], 0, 'a polling place was not given back');
      }
    });
  }

  it('a CPU that arrives late at the start changes no decision (the first to arrive decides for it)', async () => {
    const LATE = new URL('../../fixtures/actors-late.js', import.meta.url).href;
    const acts = [actor('exclusive', { iters: 25 }), actor('exclusive', { iters: 25 }), { module: LATE, export: 'exclusive', arg: { iters: 25 } }];
    const schedules: string[] = [];
    for (const fresh of [true, false]) {          // fresh workers load the late module (300 ms); warm ones have it
      const pool = createPool(3);
      pools.push(pool);
      if (!fresh) await runTrial(pool, basicMachine(3), acts, { mode: 'controlled', seed: 1, budgetMs: 30_000 });
      const t0 = performance.now();
      const r = await runTrial(pool, basicMachine(3), acts, { mode: 'controlled', chooser: 'random', seed: 77, budgetMs: 30_000, spin: 'auto' });
      if (fresh) assert.ok(performance.now() - t0 >= 250, 'the late module loaded in this trial');
      assert.equal(r.outcome, 'ok', `${r.outcome} ${r.hang?.detail ?? ''}`);
      assert.equal(data(DATA.maxInside), 1, 'two threads were inside at once');
      schedules.push(r.schedule!);
    }
    assert.equal(schedules[0], schedules[1]);
  });

  it('a controlled trial wakes its first CPU only; the others come in as they are first picked, or to stop', async () => {
    const pool = createPool(3);
    pools.push(pool);
    pool.lazyStart = true;                         // its default on one core only (pool.ts)
    await runTrial(pool, basicMachine(3), [0, 1, 2].map(() => actor('noop')), { mode: 'controlled' }); // workers up
    // Each actor sees CPU 0 and the CPUs picked up to its own first pick arrived, no other. A worker may still take
    // its task unwoken (its sleep timed out, or a loaded machine kept it from its doorbell): most runs, not all.
    const seen: string[] = [];
    let exact = 0;
    for (let run = 0; run < 16; run++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await runTrial(pool, basicMachine(3), [0, 1, 2].map(() => actor('arrivals')), { mode: 'controlled', chooser: 'random', seed: 900 + run, budgetMs: 30_000 });
      assert.equal(r.outcome, 'ok');
      const picks = Array.from(parseSchedule(r.schedule!).decisions);
      const want = [0, 1, 2].map((c) => new Set([0, ...picks.slice(0, picks.indexOf(c) + 1)]).size);
      const called = M[schedBase + SCHED_HEADER.CALLED]; // CPU 0 is called in only when another arrived unwoken
      if (r.threads.every((t, c) => t.value === want[c]) && (called & 1) === 0) exact++;
      seen.push(`${r.schedule} ${r.threads.map((t) => t.value)} called ${called}`);
    }
    assert.ok(exact >= 8, `CPUs arrived before they were picked: ${seen.join('; ')}`); // all at once: 0 of 16
    const m = basicMachine(3);
    const crashed = await runTrial(pool, m, [actor('crashAfter', { steps: 0 }), actor('noop'), actor('noop')], { mode: 'controlled', chooser: 'verify', budgetMs: 30_000 });
    assert.equal(crashed.outcome, 'null-deref');
    assert.deepEqual(crashed.threads.map((t) => t.status), ['crash', 'stopped', 'stopped'], 'CPUs never picked still return, stopped');
    assert.equal(crashed.aborted, 0);
  });

  it('a crash mid-run stops pollers and sleepers alike (no thread left waiting)', async () => {
    const pool = createPool(6);
    pools.push(pool);
    for (let run = 0; run < 6; run++) {
      const m = basicMachine(6);
      const acts = [actor('crashAfter', { steps: 20 + run }), ...Array.from({ length: 5 }, () => actor('yieldLoop', { n: 100_000 }))];
      const r = await runTrial(pool, m, acts, { mode: 'controlled', seed: 40 + run, budgetMs: 30_000, spin: 'auto' });
      assert.equal(r.outcome, 'null-deref');
      assert.equal(r.aborted, 0, 'a worker had to be aborted');
    }
  });
});

describe('lock profiling buckets', () => {
  it('give the (value, count) pairs an HdrHistogram of the same values gives', () => {
    const values = [0, 1, 2, 127, 128, 255, 256, 257, 511, 512, 1000, 65_535, 1e6, 123_456_789, 2 ** 31 - 1, 2 ** 31, 5e9];
    let x = 12345;
    for (let i = 0; i < 2000; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; values.push(x % (1 << (i % 31))); }
    const h = newHistogram();
    const b = new Int32Array(BUCKET_INDEXES);
    for (const v of values) { h.recordValue(v); bucketCount(b, v, 1); }
    const want: number[] = [];
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) { const v = it.next(); want.push(v.valueIteratedTo, v.countAtValueIteratedTo); }
    assert.deepEqual(bucketPairs(b), want);
  });

  it('count a weighted value as that many of it', () => {
    const h = newHistogram();
    const b = new Int32Array(BUCKET_INDEXES);
    h.recordValueWithCount(777, HOLD_SAMPLE);
    bucketCount(b, 777, HOLD_SAMPLE);
    const p = bucketPairs(b)!;
    assert.equal(p.length, 2);
    assert.equal(p[1], HOLD_SAMPLE);
    assert.equal(h.getValueAtPercentile(50), p[0]);
  });
});

describe('one wait mechanism per machine (lib/sched/futex.ts)', () => {
  it('the first thread to attach a machine decides, and a machine decided for Atomics stays on Atomics', () => {
    const m = createMachine({ threads: 1 });
    attach(m, 0);
    const f = M[CTL.FLAGS];
    assert.ok(f & futex.FLAG_WAIT_DECIDED, 'decided at the first attach');
    assert.equal((f & futex.FLAG_FUTEX) !== 0, futex.futexAddon() !== undefined, futex.futexStatus());
    assert.equal(futex.useFutex, futex.futexAddon() !== undefined);
    assert.equal(futex.useFutexLocks, process.env.VPCI_FUTEX !== 'sched' && futex.useFutex, 'lock words use futex unless VPCI_FUTEX=sched');
    const n = createMachine({ threads: 1, extraFlags: futex.FLAG_WAIT_DECIDED });
    attach(n, 0);
    assert.equal(futex.useFutex, false, 'a thread must follow the machine, not its own preference');
    attach(m, 0);
    assert.equal(futex.useFutex, futex.futexAddon() !== undefined);
  });

  it('with futex, a sleeper on another thread is woken by wakeOne long before its timeout', async function () {
    if (!futex.futexAddon()) this.skip();
    const m = createMachine({ threads: 1 });
    attach(m, 0);
    const w = CTL.words - 1;
    M[w] = 5;
    const code = `const { workerData, parentPort } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      const { futexAddon } = workerData;
      const mod = { exports: {} }; process.dlopen(mod, futexAddon);
      const m = new Int32Array(workerData.sab);
      Atomics.store(m, workerData.flag, 1);
      const t0 = Date.now();
      const rc = mod.exports.wait(m, workerData.w, 5, 10000);
      parentPort.postMessage({ rc, ms: Date.now() - t0 });`;
    const { Worker } = await import('node:worker_threads');
    const flag = CTL.words - 2;
    M[flag] = 0;
    const path = futex.futexStatus().match(/\((.*)\)/)![1];
    const wk = new Worker(code, { eval: true, workerData: { sab: m.sab, w, flag, futexAddon: (await import('node:path')).resolve(path) } });
    const done = new Promise<{ rc: number; ms: number }>((resolve) => wk.once('message', resolve));
    const t0 = performance.now();
    while (Atomics.load(M, flag) === 0 && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));          // let it reach the kernel's wait
    futex.wakeOne(w);
    const r = await done;
    await wk.terminate();
    assert.equal(r.rc, 0, 'woken, not timed out');
    assert.ok(r.ms < 5000, `woken after ${r.ms} ms`);
  });

  it('with futex, a sleeper returns at once on a changed word and times out on an unchanged one', function () {
    if (!futex.futexAddon()) this.skip();
    const m = createMachine({ threads: 1 });
    attach(m, 0);
    assert.equal(futex.useFutex, true);
    const w = CTL.words - 1; // a word of the control block nobody uses during this test
    const t0 = performance.now();
    futex.sleepOn(w, 1, 30); // M[w] !== 1: returns at once
    assert.ok(performance.now() - t0 < 25, 'a changed word must not sleep');
    const saved = M[w];
    M[w] = 7;
    const t1 = performance.now();
    futex.sleepOn(w, 7, 30);
    assert.ok(performance.now() - t1 >= 20, 'an unchanged word sleeps until the timeout');
    M[w] = saved;
  });
});

describe('spin budget: what a thread learns from its waits (lib/sched/spin.ts)', () => {
  // spin.ts keeps its averages per thread: these tests run in the main thread, alone in it.
  it('waits after waking a sleeper that keep missing stop polling (but probe now and then); ordinary waits are not judged by them', async function () {
    const spin = await import('../../../lib/sched/spin.js');
    if (spin.CORES < 2) this.skip();
    attach(createMachine({ threads: 2 }), 0);
    const word = CTL.words - 1; // a word nothing changes while we poll it
    const budgets: number[] = [];
    for (let i = 0; i < 40; i++) {
      const b = spin.spinBudget(true);
      budgets.push(b);
      if (b > 0) spin.pollWhile(word, M[word], b, true);
    }
    assert.equal(budgets[0], spin.WAKE_SPIN_MS);
    assert.ok(budgets.slice(-20).every((b) => b === 0), `still polling after ${budgets.filter((b) => b > 0).length} misses: ${budgets}`);
    assert.ok(spin.spinBudget(false) > 0, 'the misses after wakes said nothing about ordinary waits');
    let probes = 0;
    for (let i = 0; i < 128; i++) if (spin.spinBudget(true) > 0) probes++;
    assert.equal(probes, 2, 'one probe every PROBE_EVERY waits');
  });

  it('ordinary waits that keep missing park at once, and a probe that hits resumes polling at once', async function () {
    const spin = await import('../../../lib/sched/spin.js');
    if (spin.CORES < 2) this.skip();
    attach(createMachine({ threads: 2 }), 0);
    const word = CTL.words - 1;
    for (let i = 0; i < 8; i++) {                      // misses: SPIN_MS each
      const b = spin.spinBudget(false);
      if (b > 0) assert.equal(spin.pollWhile(word, M[word], b), false);
    }
    assert.equal(spin.spinBudget(false), 0, 'still polling after 8 misses in a row');
    let probe = 0, calls = 0;
    while (probe === 0 && calls++ < 200) probe = spin.spinBudget(false);
    assert.equal(probe, spin.SPIN_MS, 'no probe within 200 waits');
    assert.equal(spin.pollWhile(word, M[word] + 1, probe), true);   // the word differs: a hit at once
    assert.equal(spin.spinBudget(false), spin.SPIN_MS, 'the probe hit, yet the next wait parks');
    assert.equal(spin.pollWhile(word, M[word], spin.SPIN_MS), false);
    assert.equal(spin.spinBudget(false), spin.SPIN_MS, 'one miss after a good probe already parks');
  });
});
