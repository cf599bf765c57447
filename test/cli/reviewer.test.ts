// A reviewer's workflow from the README alone (issue 22): a patch file is judged as a proposed fix and says which
// rule judged it, bad patch files fail at load, errors point at the user's file, and every printed replay line
// replays.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Paths as a user in the repository's root types them. */
const fx = (name: string): string => `./test/fixtures/reviewer/${name}`;

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 90_000, cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const oneLine = (r: { stderr: string }): void => assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

describe('reviewer workflow (issue 22)', function () {
  this.timeout(180_000);

  describe('a patch is judged as a proposed fix', () => {
    it("the README's example: repro stale-pdev with examples/patches/upstream-drain.mjs exits 0 and prints the rule", () => {
      const r = cli('repro', 'stale-pdev', '--strategy', './examples/patches/upstream-drain.mjs', '--runs', '40');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /judged by: .*as a fix/);
    });
    it('HEAD unpatched as a patch file fails stale-pdev (its race) ...', () => {
      const r = cli('repro', 'stale-pdev', '--strategy', fx('head-as-is.mjs'), '--runs', '200');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /use-after-free \(forbidden for head-as-is\)/);
    });
    it("... and is let off HEAD's own known bug at its site (crash-path-2: the defer_map assert, header.c:357)", () => {
      const r = cli('repro', 'crash-path-2', '--strategy', fx('head-as-is.mjs'), '--runs', '200');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /assert \(expected for head-as-is\) .*in modify_bars/);
      assert.match(r.stdout, /known bug of head: assert in modify_bars \(header\.c:357/);
    });
    it('a patch may carry its own expect, and the output says so', () => {
      const r = cli('repro', 'stale-pdev', '--strategy', fx('own-expect.mjs'), '--runs', '200');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /judged by: the patch's own expect/);
    });
  });

  describe('load-time validation', () => {
    it('a replace entry that is not (prev) => fn: one line, exit 2, in repro and in list --strategy', () => {
      for (const args of [['repro', 'stale-pdev', '--strategy', fx('not-prev.mjs'), '--runs', '1'], ['list', '--strategy', fx('not-prev.mjs')]]) {
        const r = cli(...args);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        oneLine(r);
        assert.match(r.stderr, /replace\.vpci_read .*\(prev\) =>/);
      }
    });
    it('a misspelt strategy name under expect: one line, exit 2, with the closest name', () => {
      const r = cli('repro', fx('misspelled.scenario.mjs'), '--strategy', 'upstream', '--runs', '1');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      oneLine(r);
      assert.match(r.stderr, /'upstream-drian'.*did you mean 'upstream-drain'/);
    });
  });

  describe("errors point at the user's file", () => {
    it("a patch that throws at run time is reported at the patch's file and line", () => {
      const r = cli('repro', 'stale-pdev', '--strategy', fx('throws.mjs'), '--runs', '5');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      oneLine(r);
      assert.match(r.stderr, /patch throws .*TypeError: the patch went wrong \(at .*test\/fixtures\/reviewer\/throws\.mjs:7\)/);
      assert.doesNotMatch(r.stderr, /scenario stale-pdev, actor/);
    });
    it('a patch that throws under stress (free-running vCPUs): its file and line, one line, exit 2', () => {
      const r = cli('stress', '--strategy', fx('throws.mjs'), '--trials', '1');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      oneLine(r);
      assert.match(r.stderr, /^vpci-lab: patch throws threw TypeError: the patch went wrong \(at .*throws\.mjs:7\) on cpu\d+$/m);
    });
    it("a patch that throws while the machine boots: the patch's file and line, not an internal error", () => {
      const r = cli('repro', 'crash-path-1', '--strategy', fx('throws-at-boot.mjs'), '--runs', '1');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      oneLine(r);
      assert.match(r.stderr, /patch throws-at-boot threw RangeError: no device \d+ \(at .*throws-at-boot\.mjs:7\) while the machine booted/);
    });
    it('a scenario with a syntax error names file:line:column', () => {
      const r = cli('repro', fx('syntax.scenario.mjs'), '--strategy', 'baseline', '--runs', '1');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      oneLine(r);
      assert.match(r.stderr, /syntax\.scenario\.mjs:4:\d+/);
    });
  });

  describe('replay lines replay', () => {
    it('repro (terminal, JUnit, HTML) prints the paths of a scenario file and a patch file, and the line replays', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-replay-'));
      try {
        const junit = path.join(dir, 'r.xml'), html = path.join(dir, 'r.html');
        const r = cli('repro', fx('surprise.scenario.mjs'), '--strategy', fx('head-as-is.mjs'), '--runs', '200', '--junit', junit, '--html', html);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        const line = /replay: +(vpci-lab repro .*)/.exec(r.stdout)?.[1];
        assert.ok(line, r.stdout);
        assert.match(line, /repro \.\/test\/fixtures\/reviewer\/surprise\.scenario\.mjs --strategy \.\/test\/fixtures\/reviewer\/head-as-is\.mjs/);
        assert.match(fs.readFileSync(junit, 'utf8'), /replay: vpci-lab repro \.\/test\/fixtures\/reviewer\/surprise\.scenario\.mjs --strategy \.\/test\/fixtures\/reviewer\/head-as-is\.mjs/);
        assert.match(fs.readFileSync(html, 'utf8'), /vpci-lab repro \.\/test\/fixtures\/reviewer\/surprise\.scenario\.mjs --strategy \.\/test\/fixtures\/reviewer\/head-as-is\.mjs/);
        const again = cli(...line.split(' ').slice(1));
        assert.equal(again.code, 1, again.stdout + again.stderr);
        assert.match(again.stdout, /replayed run: use-after-free/);
      } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
    it('explore (terminal surprises, JUnit, HTML report) prints paths too', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-replay-'));
      try {
        const junit = path.join(dir, 'e.xml'), html = path.join(dir, 'e.html');
        const r = cli('explore', '--scenarios', fx('surprise.scenario.mjs'), '--strategies', fx('head-as-is.mjs'), '--runs', '30', '--junit', junit, '--html', html);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        const want = /vpci-lab repro \.\/test\/fixtures\/reviewer\/surprise\.scenario\.mjs --strategy \.\/test\/fixtures\/reviewer\/head-as-is\.mjs --schedule/;
        assert.match(r.stdout, want);
        assert.match(r.stdout, /judged by \(patch files\):\n  surprise \/ head-as-is: the scenario's expectations for '\*'/);
        assert.match(fs.readFileSync(junit, 'utf8'), want);
        assert.match(fs.readFileSync(html, 'utf8'), want);
      } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
  });
});
