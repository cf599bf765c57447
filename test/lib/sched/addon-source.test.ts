// A build run away from its sources (dist/ copied without native/) cannot build the futex addon: it still runs, on
// Atomics.wait/notify, and says so once on stderr, instead of silently running slower.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { futexAddon } from '../../../lib/sched/futex.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const NOTE = /^vpci-lab: note: futex addon off: native\/futex\/futex\.c not found in .*; threads wait with Atomics\.wait\/notify instead/;

describe('the futex addon, from a dist/ copied without native/', function () {
  this.timeout(120_000);
  let copy = '';
  before(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-dist-copy-'));
    fs.cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  });
  after(() => fs.rmSync(copy, { recursive: true, force: true }));

  const run = (args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string; notes: string[] } => {
    const r = spawnSync(process.execPath, args.map((a) => a.replace(/^dist\//, `${copy}/dist/`)),
      { encoding: 'utf8', timeout: 90_000, cwd: os.tmpdir(), env: { ...process.env, VPCI_BENCH_WARM: '10', ...env } });
    return { code: r.status, stderr: r.stderr, notes: r.stderr.split('\n').filter((l) => /futex/.test(l)) };
  };
  const SCHED = ['dist/commands/bench/sched.js', '--threads', '2', '--yields', '100', '--runs', '1'];

  it('runs, and says once that the addon is missing, why, and what it falls back to', () => {
    const r = run(SCHED);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.notes.length, 1, r.stderr);
    assert.match(r.notes[0], NOTE);
    assert.ok(r.notes[0].includes(copy), `names where it looked: ${r.notes[0]}`);
  });

  it('once for a command that starts child processes (verify --jobs 2), not once per child', () => {
    const r = run(['dist/cli/main.js', 'verify', 'crash-path-1,abba', '--strategy', 'baseline', '--preemptions', '0', '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.notes.map((l) => NOTE.test(l)), [true], r.stderr);
  });

  it('nothing when the fallback is chosen (VPCI_FUTEX=0), nor from the build in place', function () {
    assert.deepEqual(run(SCHED, { VPCI_FUTEX: '0' }).notes, []);
    if (!futexAddon()) this.skip(); // no C compiler here: the build in place falls back too, and says so
    const here = spawnSync(process.execPath, SCHED.map((a) => a.replace(/^dist\//, `${ROOT}/dist/`)), { encoding: 'utf8', timeout: 90_000, env: { ...process.env, VPCI_BENCH_WARM: '10' } });
    assert.equal(here.status, 0, here.stderr);
    assert.doesNotMatch(here.stderr, /futex/);
  });
});
