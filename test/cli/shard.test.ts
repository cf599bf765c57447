// Campaigns across machines: shards run as separate processes (flags and job-engine environments), merged, give
// exactly the unsharded result; merge refuses an incomplete set.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(JOB_COMPLETION_INDEX|CI_NODE_|SLURM_ARRAY_|VPCI_SHARD)/.test(k)));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...CLEAN_ENV, ...env } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('shards and merge', function () {
  this.timeout(240_000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-shard-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const EXPLORE = ['explore', '--scenarios', 'crash-path-1,stale-pdev,abba', '--strategies', 'baseline,cancel-all', '--runs', '10'];

  it('4 explore shards as processes, merged, equal one unsharded run byte for byte', async () => {
    const whole = path.join(dir, 'whole.json');
    const shard = (i: number): string => path.join(dir, `shard-${i}.json`);
    // One shard each way a job engine hands it out: the flag, Kubernetes, GitLab (1-based), Slurm.
    const runs = await Promise.all([
      cli([...EXPLORE, '--json', whole, '--html', path.join(dir, 'whole.html')]),
      cli([...EXPLORE, '--shard', '1/4', '--json', shard(0), '--html', path.join(dir, 's0.html')]),
      cli([...EXPLORE, '--shard-count', '4', '--json', shard(1), '--html', path.join(dir, 's1.html')], { JOB_COMPLETION_INDEX: '1' }),
      cli([...EXPLORE, '--json', shard(2), '--html', path.join(dir, 's2.html')], { CI_NODE_INDEX: '3', CI_NODE_TOTAL: '4' }),
      cli([...EXPLORE, '--json', shard(3), '--html', path.join(dir, 's3.html')], { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' }),
    ]);
    // 0 or 1 (a forbidden outcome) and nothing else: a shard that died or was killed has no JSON, and says why here.
    for (const r of runs) assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    const parts = [0, 1, 2, 3].map((i) => JSON.parse(fs.readFileSync(shard(i), 'utf8')));
    assert.deepEqual(parts.map((p) => p.shard), [0, 1, 2, 3].map((index) => ({ index, count: 4 })));
    for (const p of parts) for (const c of p.cells) assert.ok(c.runs === 2 || c.runs === 3, `a shard runs its quarter of the runs, got ${c.runs}`);
    const merged = path.join(dir, 'merged.json'), junit = path.join(dir, 'merged.xml');
    const m = await cli(['merge', ...[3, 1, 0, 2].map(shard), '--json', merged, '--junit', junit, '--html', path.join(dir, 'merged.html')]);
    assert.equal(m.code, runs[0].code, m.stderr);
    // Wall times (JUnit's time) are the one thing two equal runs differ in.
    const timeless = (f: string): string => fs.readFileSync(f, 'utf8').replace(/,"ms":\d+/g, '');
    assert.equal(timeless(merged), timeless(whole), 'merged JSON equals the unsharded JSON');
    const matrix = (s: string): string => s.slice(s.indexOf('controlled runs per cell'), s.indexOf('report:'));
    assert.equal(matrix(m.stdout), matrix(runs[0].stdout), 'and prints the same matrix');
    assert.equal((fs.readFileSync(junit, 'utf8').match(/<testcase /g) ?? []).length, 6);
  });

  it('merge refuses a missing shard unless --partial', async () => {
    const r = spawnSync(process.execPath, [CLI, 'merge', path.join(dir, 'shard-0.json'), path.join(dir, 'shard-2.json')], { encoding: 'utf8', env: CLEAN_ENV });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /shard 2\/4 missing, shard 4\/4 missing/);
    const p = await cli(['merge', '--partial', path.join(dir, 'shard-0.json'), path.join(dir, 'shard-2.json'), '--html', path.join(dir, 'p.html')]);
    assert.notEqual(p.code, 2, p.stderr);
    assert.match(p.stdout, /partial: shard 2\/4 missing/);
  });

  it('stress shards split trials and merge into one campaign with merged lock histograms', async () => {
    const base = ['stress', '--strategy', 'baseline,upstream', '--trials', '4'];
    const [a, b] = await Promise.all([1, 2].map((i) => cli([...base, '--shard', `${i}/2`, '--json', path.join(dir, `st${i}.json`), '--jsonl', path.join(dir, `st${i}.jsonl`), '--html', path.join(dir, `st${i}.html`)])));
    assert.equal(a.code, 0, a.stderr); assert.equal(b.code, 0, b.stderr);
    const m = await cli(['merge', path.join(dir, 'st1.json'), path.join(dir, 'st2.json'), path.join(dir, 'st1.jsonl'), path.join(dir, 'st2.jsonl'),
      '--json', path.join(dir, 'st.json'), '--jsonl', path.join(dir, 'st.jsonl'), '--html', path.join(dir, 'st.html')]);
    assert.equal(m.code, 0, m.stderr);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'st.json'), 'utf8'));
    for (const r of j.results) {
      assert.equal(r.trials, 4);
      assert.equal(Object.values(r.outcomes as Record<string, number>).reduce((x, y) => x + y, 0), 4);
      assert.ok(Object.keys(r.lockHistograms).length > 0, 'lock histograms kept');
    }
    const lines = fs.readFileSync(path.join(dir, 'st.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => `${l.strategy}:${l.trial}`), ['baseline:0', 'baseline:1', 'baseline:2', 'baseline:3', 'upstream:0', 'upstream:1', 'upstream:2', 'upstream:3']);
    assert.match(m.stdout, /first failures:|no failures/);
  });
});
