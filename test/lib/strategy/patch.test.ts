// Patches as files: `--strategy ./my-fix.mjs` loads in every worker, replaces model functions by their Xen names,
// and bad files are one line and exit 2.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { loadStrategy, loadedStrategy, PatchError } from '../../../lib/strategy/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`../../../../test/fixtures/patches/${name}`, import.meta.url));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('patch files', function () {
  this.timeout(120_000);
  let pool: TrialPool;
  before(() => { pool = createPool(2); });
  after(async () => { await pool.close(); });

  const runs = async (strategy: string, scenario: string, n: number) => {
    const { url, scenario: s } = await loadScenario(scenario);
    return reproduce(pool, url, s, strategy, { runs: n, chooser: 'random', pctDepth: 3, seed: 7, all: true });
  };

  it('a patch file on l21 behaves exactly like the built-in strategy it re-implements (same seeds, same outcomes)', async () => {
    const s = await loadStrategy(fixture('cancel-current.mjs'));
    assert.equal(s.name, 'cancel-current');
    assert.equal(s.generation.name, 'l21');
    const mine = await runs('cancel-current', 'crash-path-1', 40);
    const builtin = await runs('cancel', 'crash-path-1', 40);
    const base = await runs('baseline', 'crash-path-1', 40);
    assert.deepEqual(mine.outcomes, builtin.outcomes);
    assert.notDeepEqual(mine.outcomes, base.outcomes, 'the patch must change something: crash-path-1 differs from baseline');
  });

  it('examples/patches/upstream-drain.mjs (the drain proposal on HEAD as a file) ends every run like the built-in upstream-drain; upstream fails where it does not', async () => {
    const file = fileURLToPath(new URL('../../../../examples/patches/upstream-drain.mjs', import.meta.url));
    const s = await loadStrategy(file);
    assert.equal(s.generation.name, 'head');
    const mine = await runs('drain-example', 'stale-pdev', 30);
    const builtin = await runs('upstream-drain', 'stale-pdev', 30);
    const head = await runs('upstream', 'stale-pdev', 30);
    assert.deepEqual(mine.outcomes, builtin.outcomes);
    assert.equal(mine.outcomes['use-after-free'] + mine.outcomes['null-deref'], 0, 'the drain patch fixes stale-pdev');
    assert.ok(head.outcomes['use-after-free'] + head.outcomes['null-deref'] > 0, 'HEAD unpatched shows the stale pdev');
  });

  it('a patch can be a function given the model API (no import), based on another strategy', async () => {
    const s = await loadStrategy(fixture('no-import.mjs'));
    assert.deepEqual(s.chain.map((p) => p.name), ['baseline', 'no-import']);
  });

  it('refuses a replacement of a name the model does not have, an unknown base, a name that shadows', async () => {
    await assert.rejects(loadStrategy(fixture('bad-name.mjs')), (e: Error) => e instanceof PatchError && /replaces 'vpci_frobnicate', which the l21 model does not have/.test(e.message));
    await assert.rejects(loadStrategy(fixture('head-only.mjs')), /replaces 'vpci_deassign_device', which the l21 model does not have/);
    await assert.rejects(loadStrategy(fixture('bad-base.mjs')), /unknown base 'xen-3.0'/);
    await assert.rejects(loadStrategy(fixture('shadow.mjs')), /named 'baseline', like a built-in strategy/);
    await assert.rejects(loadStrategy(fixture('missing.mjs')), /does not load: no such file/);
    await assert.rejects(loadStrategy(fixture('broken.mjs')), /does not load/);
    assert.throws(() => loadedStrategy(fixture('bad-name.mjs')), /not loaded/);
  });

  it('command line: a bad patch file is one line and exit 2; a good one outside the package runs', () => {
    for (const [file, pattern] of [['bad-name.mjs', /vpci_frobnicate/], ['broken.mjs', /does not load/], ['missing.mjs', /no such file/]] as const) {
      const r = cli('repro', 'crash-path-1', '--strategy', fixture(file), '--runs', '1');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
    // A user's file in a directory that knows nothing of vpci-lab still imports 'vpci-lab/model'.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-patch-'));
    try {
      const file = path.join(dir, 'my-fix.mjs');
      fs.copyFileSync(fixture('cancel-current.mjs'), file);
      const r = cli('repro', 'crash-path-1', '--strategy', file, '--runs', '3');
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /crash-path-1 under cancel-current/);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
