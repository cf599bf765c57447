// The C backend's source options on the command line (--backend c, --xen-src DIR, --patch FILE, repeatable): bad
// input is one line on stderr and exit 2 before any run starts, on every command that runs scenarios.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedTree, skipBecause, TREE_HINT } from '../helpers-xen.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
const lab = (...args: string[]): { status: number | null; stderr: string } =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd: ROOT });
const oneLine = (r: { status: number | null; stderr: string }, re: RegExp): void => {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
};

describe('command line: the C backend\'s Xen source', function () {
  this.timeout(120_000);

  for (const cmd of [['repro', 'crash-path-1'], ['verify', 'crash-path-1'], ['explore'], ['stress']]) {
    it(`${cmd[0]}: a directory that is not a Xen tree, and --xen-src without --backend c`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'not-xen-'));
      oneLine(lab(...cmd, '--backend', 'c', '--xen-src', dir), /not a Xen tree \(no xen\/Makefile\)/);
      oneLine(lab(...cmd, '--xen-src', dir), /--xen-src and --patch need --backend c/);
    });
  }

  it('a patch that does not apply names the patch, the hunk and the file (HEAD\'s drain on 4.17.5)', function () {
    const deb = cachedTree('debian');
    if (!deb) skipBecause(this, TREE_HINT.debian);
    oneLine(lab('verify', 'crash-path-1', '--backend', 'c', '--xen-src', deb!, '--patch', 'examples/patches/upstream-drain.patch'),
      /upstream-drain\.patch: hunk #\d+ \(@@ [^)]* @@\) of xen\/\S+ does not apply/);
  });

  it('--patch is repeatable and applies in order (the same patch twice: the second finds it applied)', function () {
    const deb = cachedTree('debian');
    if (!deb) skipBecause(this, TREE_HINT.debian);
    oneLine(lab('verify', 'crash-path-1', '--backend', 'c', '--xen-src', deb!, '--patch', 'examples/patches/pcidevs.patch', '--patch', 'examples/patches/pcidevs.patch'),
      /pcidevs\.patch: already applied/);
  });
});
