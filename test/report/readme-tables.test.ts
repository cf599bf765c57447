// The README's result tables come from a script over JSON runs: run it on a small run and check what it wrote.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blocks, jsonOf } from '../../report/readme-tables.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/readme-tables.mjs', import.meta.url));

describe('readme:tables', function () {
  this.timeout(180_000);

  it('finds the marked blocks and the JSON file each command writes', () => {
    const text = 'a\n<!-- readme:tables explore: vpci-lab explore --runs 5 --json r/e.json -->\nold\n<!-- /readme:tables -->\nb\n';
    assert.deepEqual(blocks(text), [{ kind: 'explore', command: 'vpci-lab explore --runs 5 --json r/e.json', json: 'r/e.json' }]);
    assert.throws(() => jsonOf('vpci-lab stress --trials 2'), /no --json FILE/);
  });

  it('runs each block\'s command on a small run and rewrites only the blocks, from the JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-readme-'));
    const readme = path.join(dir, 'README.md');
    const explore = 'vpci-lab explore --scenarios abba,crash-path-1 --strategies baseline,cancel-all --runs 4 --json e.json';
    const stress = 'vpci-lab stress --strategy baseline,upstream --trials 2 --json s.json';
    fs.writeFileSync(readme, `# title\n\nbefore\n\n<!-- readme:tables explore: ${explore} -->\nstale matrix\n<!-- /readme:tables -->\n\n` +
      `middle\n\n<!-- readme:tables stress: ${stress} -->\nstale table\n<!-- /readme:tables -->\n\nafter\n`);
    try {
      const r = spawnSync(process.execPath, [SCRIPT, '--run', readme], { encoding: 'utf8', timeout: 150_000 });
      assert.equal(r.status, 0, r.stderr);
      const out = fs.readFileSync(readme, 'utf8');
      assert.ok(out.startsWith('# title\n\nbefore\n\n') && out.includes('\n\nmiddle\n\n') && out.endsWith('\n\nafter\n'), out);
      assert.doesNotMatch(out, /stale matrix|stale table/);
      assert.ok(out.includes(`\`${explore}\` — 4 controlled runs per cell (pct depth 3, seed 1)`), out);
      assert.match(out, /```\nscenario +baseline +cancel-all\nabba +ok\+ +.*deadlock\+/);
      assert.match(out, /\ncrash-path-1 +null-deref\+/);
      const j = JSON.parse(fs.readFileSync(path.join(dir, 's.json'), 'utf8'));
      assert.ok(out.includes(`\`${stress}\` — 2 domains × 2 vCPUs, 3 devices`), out);
      assert.match(out, new RegExp(`\\nbaseline +${j.results[0].trials} `));
      assert.match(out, /\nupstream +2 /);
      // Rendering again from the same JSON changes nothing.
      const again = spawnSync(process.execPath, [SCRIPT, readme], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(again.status, 0, again.stderr);
      assert.equal(fs.readFileSync(readme, 'utf8'), out);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a verify block: the verdict matrix from verify --json, cells of one search merged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-readme-'));
    const readme = path.join(dir, 'README.md');
    const cmd = 'vpci-lab verify crash-path-1 --strategy baseline,pcidevs --preemptions 1 --json v.json';
    fs.writeFileSync(readme, `<!-- readme:tables verify: ${cmd} -->\nstale\n<!-- /readme:tables -->\n`);
    try {
      const r = spawnSync(process.execPath, [SCRIPT, '--run', readme], { encoding: 'utf8', timeout: 150_000 });
      assert.equal(r.status, 0, r.stderr);
      const out = fs.readFileSync(readme, 'utf8');
      assert.ok(out.includes(`\`${cmd}\` — 2 cells, `), out);
      assert.match(out, /```\nscenario +baseline +pcidevs\ncrash-path-1 +refuted null-deref@0p +verified \d+r \d+s\n```/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a block whose JSON is missing is one line, exit 2, README untouched', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-readme-'));
    const readme = path.join(dir, 'README.md');
    const text = '<!-- readme:tables stress: vpci-lab stress --trials 1 --json nope.json -->\nx\n<!-- /readme:tables -->\n';
    fs.writeFileSync(readme, text);
    try {
      const r = spawnSync(process.execPath, [SCRIPT, readme], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /nope\.json not found \(run: vpci-lab stress --trials 1 --json nope\.json\)/);
      assert.equal(fs.readFileSync(readme, 'utf8'), text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
