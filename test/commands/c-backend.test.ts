// The commands with --backend c: hunt's programs and verify's reports against Xen's compiled C (Debian's 4.17.5
// here); every replay line they write rebuilds the same C. Skips, saying why, without a compiler or the tree.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { xen417OrSkip } from '../helpers-xen.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));


describe('commands with --backend c', function () {
  this.timeout(240_000);

  it('finds a crash in the compiled 4.17.5, writes it, and its replay line names the C backend and replays it', function () {
    const tree = xen417OrSkip(this);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-hunt-c-'));
    try {
      const r = spawnSync(process.execPath, [CLI, 'hunt', '--backend', 'c', '--xen-src', tree, '--strategy', 'baseline', '--budget', '90s', '--max-findings', '1', '--out', dir],
        { encoding: 'utf8', timeout: 200_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /C backend: Xen 4\.17/);
      const line = r.stdout.split('\n').find((l) => l.trim().startsWith('vpci-lab repro'));
      assert.ok(line, r.stdout);
      assert.match(line!, /--strategy baseline --backend c --xen-src \S+ --schedule S\d:/);
      const args = line!.trim().split(/\s+/).slice(1);
      const again = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(again.status, 1, again.stdout + again.stderr);   // the finding again: forbidden outcome, exit 1
      assert.match(again.stdout, /replayed run: (null-deref|use-after-free|bug|assert|deadlock)/);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('verify: the HTML report names the Xen that ran, and its and JUnit\'s replay lines rebuild the C', function () {
    const tree = xen417OrSkip(this);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-verify-c-'));
    try {
      // Judged as upstream, crash-path-3's use-after-free on 4.17.5 is forbidden: the JUnit file carries its replay.
      const r = spawnSync(process.execPath, [CLI, 'verify', 'crash-path-3', '--backend', 'c', '--xen-src', tree, '--strategy', 'upstream',
        '--report', path.join(dir, 'r.html'), '--junit', path.join(dir, 'j.xml'), '--html', path.join(dir, 't.html')], { encoding: 'utf8', timeout: 200_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const html = fs.readFileSync(path.join(dir, 'r.html'), 'utf8'), xml = fs.readFileSync(path.join(dir, 'j.xml'), 'utf8');
      assert.match(html, /C backend: Xen 4\.17\.5/);
      for (const text of [html, xml]) {
        const lines = text.match(/vpci-lab repro [^<"]*/g) ?? [];
        assert.ok(lines.length > 0, 'a replay line');
        for (const l of lines) assert.match(l, /^vpci-lab repro crash-path-3 --backend c --xen-src \S+ --strategy upstream --schedule S2:/);
      }
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('--backend c with two strategies is one line and exit 2', () => {
    const r = spawnSync(process.execPath, [CLI, 'hunt', '--backend', 'c', '--strategy', 'baseline,pcidevs', '--budget', '1s'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('C backend:')).length, 1, r.stderr);
  });
});
