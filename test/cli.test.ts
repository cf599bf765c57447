// Bad input: one clear line on stderr, exit code 2, never a stack trace or a hang.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../stress/cli.js', import.meta.url));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function usageError(args: string[], pattern: RegExp): void {
  const r = cli(...args);
  assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], /^vpci-lab: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('command line: bad input is one line and exit 2', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-cli-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('unknown command', () => usageError(['frobnicate'], /unknown command 'frobnicate'/));
  it('stress --vcpus 0', () => usageError(['stress', '--vcpus', '0'], /--vcpus must be between 1/));
  it('stress with an unknown strategy', () => usageError(['stress', '--strategy', 'baseline,magic'], /unknown strategy 'magic'/));
  it('stress with a malformed --inject', () => usageError(['stress', '--inject', 'iommu=lots'], /--inject/));
  it('stress with an out-of-range --inject', () => usageError(['stress', '--inject', 'map=1.5'], /probability/));
  it('stress with an unknown flag', () => usageError(['stress', '--fast'], /Unknown option '--fast'/));
  it('stress with a bad duration', () => usageError(['stress', '--duration', 'soon'], /--duration/));
  it('repro without a strategy', () => usageError(['repro', 'crash-path-1'], /--strategy/));
  it('repro of an unknown scenario', () => usageError(['repro', 'crash-path-9', '--strategy', 'baseline'], /unknown scenario 'crash-path-9'/));
  it('repro with a malformed schedule string', () => usageError(['repro', 'crash-path-1', '--strategy', 'baseline', '--schedule', 'S1:2:zz!'], /schedule/));
  it('repro of a scenario file that does not load', () => {
    const f = path.join(dir, 'broken.mjs');
    fs.writeFileSync(f, 'export default {{ nope');
    usageError(['repro', f, '--strategy', 'baseline'], /does not load/);
  });
  it('repro of a file that is not a scenario', () => {
    const f = path.join(dir, 'empty.mjs');
    fs.writeFileSync(f, 'export default 42;');
    usageError(['repro', f, '--strategy', 'baseline'], /default export must be/);
  });
  it('repro of a missing file', () => usageError(['repro', path.join(dir, 'missing.mjs'), '--strategy', 'upstream'], /not found/));
  it('explore with an unknown strategy', () => usageError(['explore', '--strategies', 'nope'], /unknown strategy/));
  it('help exits 0 and lists the commands', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    for (const c of ['stress', 'repro', 'explore', 'list', 'bench']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  });
});
