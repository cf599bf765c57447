// verify: exhaustive search within bounds on real worker threads. Counts against combinatorics, reduced against
// unreduced search (same outcomes, same terminal states), fewest preemptions, replay of a counterexample string,
// shards against the whole, bad input.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { parseSchedule, formatScheduleV2, ScheduleDivergence } from '../../../lib/sched/schedule.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { verify, FAILURE, type VerifyOptions, type VerifyResult } from '../../../lib/explore/verify.js';
import { mergeCells, cellJson, verdictLine } from '../../../report/verify-text.js';
import { ALL_FAULT_KINDS } from '../../../lib/verify/trace.js';

const COUNT = fileURLToPath(new URL('../../fixtures/verify-count.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const BASE: VerifyOptions = { bound: 2, reduce: true, kinds: 0, maxFaults: 1, maxRuns: 100_000, budgetMs: 120_000, seed: 1 };

/** Interleavings of two threads with a and b segments and at most k preemptions, by enumeration. */
function interleavings(a: number, b: number, k: number): number {
  let n = 0;
  const walk = (i: number, j: number, cur: number, pre: number): void => {
    if (pre > k) return;
    if (i === a && j === b) { n++; return; }
    // Switching away from a thread that still has segments left is a preemption.
    const left = (t: number): boolean => (t === 0 ? i < a : j < b);
    if (i < a) walk(i + 1, j, 0, pre + (cur === 1 && left(1) ? 1 : 0));
    if (j < b) walk(i, j + 1, 1, pre + (cur === 0 && left(0) ? 1 : 0));
  };
  walk(0, 0, -1, 0);
  return n;
}

describe('verify: every schedule and fault placement within bounds', function () {
  this.timeout(240_000);
  let pool: TrialPool;
  before(() => { pool = createPool(3); });
  after(async () => { await pool.close(); });

  const run = async (name: string, strategy: string, o: Partial<VerifyOptions> = {}, onState?: VerifyOptions['onState']): Promise<VerifyResult> => {
    const { url, scenario } = await loadScenario(name);
    return verify(pool, url, scenario, strategy, { ...BASE, ...o, onState });
  };

  it('counts by hand: unreduced, unbounded, it runs exactly C(5,2) = 10 interleavings of 3 and 2 segments', async () => {
    const all = await run(COUNT, 'baseline', { bound: Infinity, reduce: false });
    // d0v0: 2 yield points = 3 segments; d0v1: 1 yield point = 2 segments (its return to the guest has none).
    assert.equal(all.runs, 10);
    assert.equal(all.runs, interleavings(3, 2, Infinity));
    assert.ok(all.complete);
    assert.match(verdictLine(all), /^verified \(K=all, no faults\): 10 runs, 1 distinct terminal states, 0 forbidden$/);
    const k1 = await run(COUNT, 'baseline', { bound: 1, reduce: false });
    assert.deepEqual(k1.runsByBound, [interleavings(3, 2, 0), interleavings(3, 2, 1)]);
    assert.equal(k1.runsByBound[0], 2);
    // Reduced, unbounded: DPOR alone, then with sleep sets, which run no more and cut some runs short; all reach
    // the one terminal state of the ten.
    const dpor = await run(COUNT, 'baseline', { bound: Infinity, reduce: true, sleep: false });
    const red = await run(COUNT, 'baseline', { bound: Infinity, reduce: true });
    assert.ok(dpor.runs < all.runs, `DPOR: ${dpor.runs} runs`);
    assert.ok(red.runs < dpor.runs && red.sleepCut > 0, `sleep sets: ${red.runs} runs, ${red.sleepCut} cut`);
    assert.equal(dpor.sleepCut, 0);
    assert.deepEqual(dpor.digests, all.digests);
    assert.deepEqual(red.digests, all.digests);
  });

  // Soundness: DPOR with sleep sets, and DPOR alone, against every schedule within the bound.
  const sameSearch = async (name: string, strategy: string, o: Partial<VerifyOptions>): Promise<void> => {
    const b = await run(name, strategy, { ...o, reduce: false });
    assert.ok(b.complete);
    let prev = b.runs;
    for (const sleep of [false, true]) {
      const a = await run(name, strategy, { ...o, reduce: true, sleep });
      const what = `${name}/${strategy}${sleep ? ' with sleep sets' : ''}`;
      assert.ok(a.complete);
      assert.deepEqual(Object.keys(a.outcomes).sort(), Object.keys(b.outcomes).sort(), `${what}: outcomes`);
      assert.deepEqual(a.digests, b.digests, `${what}: terminal states (${a.digests.length} reduced, ${b.digests.length} unreduced)`);
      assert.ok(a.runs <= prev, `${what}: ${a.runs} runs, more than ${prev}`);
      prev = a.runs;
    }
  };
  // The full matrix (every scenario x strategy, K <= 2, with and without faults) is bench verify --soundness.
  // upstream and upstream-drain run the HEAD generation, the others late 2021's.
  it('reduced and unreduced search reach the same outcomes and terminal states: stale-pdev, K=2', async () => {
    for (const s of ['baseline', 'upstream', 'upstream-drain']) await sameSearch('stale-pdev', s, { bound: 2 });
  });
  it('... alldevs-walk under rwlock-trylock, K=2: two failed trylocks in a row, a state only CHESS\'s yield makes reachable', async () => {
    // DPOR that ignored the yield rule lost it (search.ts, reverse()): the second retry needs a step of the lock
    // holder between the two, which no race points at.
    await sameSearch('alldevs-walk', 'rwlock-trylock', { bound: 2 });
  });
  it('... and with every fault kind branching: crash-path-2 under both HEAD strategies and pcidevs, K=1, faults<=1', async () => {
    for (const s of ['upstream', 'upstream-drain', 'pcidevs']) await sameSearch('crash-path-2', s, { bound: 1, kinds: ALL_FAULT_KINDS });
  });

  it('refutes crash-path-1 under baseline with the fewest preemptions, and stale-pdev under upstream with one', async () => {
    const cp1 = await run('crash-path-1', 'baseline', { bound: 1 });
    assert.ok(cp1.firstFailure);
    assert.match(verdictLine(cp1), /^refuted: null-deref at vpci_process_pending with 0 preemptions/);
    const sp = await run('stale-pdev', 'upstream', { bound: 2 });
    const f = sp.firstFailure!;
    assert.equal(f.outcome, 'use-after-free');
    // Iterative deepening: nothing failed at fewer preemptions than the first failure found.
    const min = Math.min(...Object.values(sp.outcomes).filter((s, i) => FAILURE(Object.keys(sp.outcomes)[i] as never)).map((s) => s!.minPreemptions));
    assert.equal(f.preemptions, min);
    assert.equal(f.preemptions, 1);
    const zero = await run('stale-pdev', 'upstream', { bound: 0 });
    assert.equal(zero.firstFailure, null);
    assert.ok(zero.complete);
  });

  it('a counterexample string replays through repro to the same outcome; a changed digest is divergence', async () => {
    const { url, scenario } = await loadScenario('stale-pdev');
    const withFault: Array<[string, string]> = [];
    const r = await verify(pool, url, scenario, 'upstream', { ...BASE, bound: 1, kinds: ALL_FAULT_KINDS, onState: (_d, s, o) => { if (s.includes(':f')) withFault.push([s, o]); } });
    const f = r.firstFailure!;
    assert.ok(r.complete && r.runs > 10, `${r.runs} runs`);
    const again = await reproduce(pool, url, scenario, 'upstream', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: f.schedule });
    assert.equal(again.firstFailure?.outcome, f.outcome);
    assert.equal(again.firstFailure?.where, f.where);
    assert.ok(withFault.length > 0, 'some run failed a fault point');
    for (const [s, o] of withFault.slice(0, 3)) {
      const g = await reproduce(pool, url, scenario, 'upstream', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: s, all: true });
      assert.equal(Object.entries(g.outcomes).find(([, n]) => n > 0)?.[0], o, s);
    }
    const p = parseSchedule(f.schedule);
    const bad = formatScheduleV2(p.threads, p.decisions, p.seed!, (p.digest! ^ 1) >>> 0, p.faults!);
    await assert.rejects(reproduce(pool, url, scenario, 'upstream', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: bad }), ScheduleDivergence);
  });

  it('three shards together cover exactly the unsharded search, and their JSON merges into one verdict', async () => {
    const o = { bound: 2, kinds: ALL_FAULT_KINDS };
    const whole = await run('crash-path-3', 'upstream', o);
    const shards = [];
    for (let i = 0; i < 3; i++) shards.push(await run('crash-path-3', 'upstream', { ...o, shard: { index: i, count: 3 } }));
    const merged = mergeCells(shards.map((s) => JSON.parse(JSON.stringify(cellJson(s)))));
    assert.deepEqual(merged.digests, whole.digests);

    assert.deepEqual(Object.keys(merged.outcomes).sort(), Object.keys(whole.outcomes).sort());
    assert.ok(merged.complete);
    assert.equal(merged.forbidden, whole.forbidden);
    assert.ok(shards.filter((s) => s.runs > 0).length >= 2, `work split: ${shards.map((s) => s.runs).join('/')}`);
    assert.equal(mergeCells(shards.slice(0, 2).map((s) => JSON.parse(JSON.stringify(cellJson(s))))).complete, false);
  });

  it('--jobs 2 (child processes, one cell in 6 shards) reaches the same verdict and terminal states as one process', async function () {
    const whole = await run('crash-path-3', 'baseline', { bound: 2 });
    // The children hand their shards over as they finish; several shards' first failures have 1 preemption (a
    // null-deref, use-after-frees): the order they arrive in must not pick the one reported.
    const six = [];
    for (let i = 0; i < 6; i++) six.push(JSON.parse(JSON.stringify(cellJson(await run('crash-path-3', 'baseline', { bound: 2, shard: { index: i, count: 6 } })))));
    assert.equal(mergeCells([...six].reverse()).firstFailure?.schedule, mergeCells(six).firstFailure?.schedule);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-verify-test-'));
    try {
      const file = path.join(dir, 'v.json');
      const r = spawnSync(process.execPath, [CLI, 'verify', 'crash-path-3', '--strategy', 'baseline', '--jobs', '2', '--json', file], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const cell = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ digests: string[]; verdict: string }> }).cells[0];
      assert.deepEqual(cell.digests, whole.digests);
      assert.equal(cell.verdict, 'refuted');
      assert.match(r.stdout, /^crash-path-3 under baseline: refuted: null-deref at vpci_read with 1 preemption /);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('Ctrl-C ends the search at the next run: covered cells are reported, the cut one is incomplete, exit 130', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-verify-int-'));
    try {
      const file = path.join(dir, 'v.json');
      const child = spawn(process.execPath, [CLI, 'verify', 'crash-path-3,crash-path-4', '--strategy', 'upstream', '--faults', 'iommu,map,alloc', '--json', file]);
      let out = '', err = '', sent = false;
      child.stdout.on('data', (d: Buffer) => { out += d; });
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        if (!sent && /crash-path-3 \/ upstream: /.test(err)) { sent = true; child.kill('SIGINT'); }
      });
      const code = await new Promise<number | null>((resolve) => { const t = setTimeout(() => child.kill('SIGKILL'), 120_000); child.on('exit', (c) => { clearTimeout(t); resolve(c); }); });
      assert.equal(code, 130, err);
      assert.match(out, /crash-path-4 +incomplete/);
      const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ complete: boolean; verdict: string }> }).cells;
      assert.deepEqual(cells.map((c) => c.complete), [true, false]);
      assert.equal(cells[1].verdict, 'incomplete');
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('a search cut by --budget or --max-runs says incomplete, never verified, in the line, the matrix and the JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-verify-cut-'));
    try {
      const file = path.join(dir, 'v.json');
      const one = spawnSync(process.execPath, [CLI, 'verify', 'crash-path-4', '--strategy', 'upstream', '--max-runs', '5', '--report', path.join(dir, 'r.html')], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(one.status, 0, one.stderr);
      assert.match(one.stdout, /^crash-path-4 under upstream: incomplete after 5 runs \(K=2, no faults; cut by max-runs\)/);
      const all = spawnSync(process.execPath, [CLI, 'verify', 'crash-path-4', '--strategy', 'upstream,pcidevs', '--budget', '1ms', '--json', file, '--report', path.join(dir, 'r.html')], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(all.status, 0, all.stderr);
      assert.doesNotMatch(all.stdout, /verified/);
      assert.match(all.stdout, /crash-path-4 +incomplete \d+r +incomplete \d+r/);
      const cells = (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ complete: boolean; verdict: string; cutBy: string }> }).cells;
      assert.deepEqual(cells.map((c) => [c.complete, c.verdict, c.cutBy]), [[false, 'incomplete', 'budget'], [false, 'incomplete', 'budget']]);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('S2 schedule strings round-trip; S1 strings still parse', () => {
    const s = formatScheduleV2(2, Uint8Array.from([0, 0, 1, 0]), 7, 0xdeadbeef, [2, 5]);
    assert.equal(s, 'S2:2:s7:deadbeef:a2ba:f2,5');
    const p = parseSchedule(s);
    assert.deepEqual([...p.decisions], [0, 0, 1, 0]);
    assert.deepEqual([p.seed, p.digest, p.faults], [7, 0xdeadbeef, [2, 5]]);
    assert.deepEqual([...parseSchedule('S1:2:a2b').decisions], [0, 0, 1]);
    assert.throws(() => parseSchedule('S2:2:s7:xyz:a2b'), /malformed schedule/);
  });

  for (const [args, pattern] of [
    [['crash-path-1', '--strategy', 'baseline', '--faults', 'iommu,disk'], /unknown fault kind 'disk'/],
    [['crash-path-1', '--strategy', 'baseline', '--preemptions', '-1'], /--preemptions/],
    [['crash-path-1', '--strategy', 'baseline', '--shard', '4/3'], /--shard 4\/3/],
    [['crash-path-1'], /--strategy/],
  ] as Array<[string[], RegExp]>) {
    it(`bad input: verify ${args.slice(1).join(' ')} is one line, exit 2`, () => {
      const r = spawnSync(process.execPath, [CLI, 'verify', ...args], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    });
  }
});
