// vpci-lab hunt end to end: a short hunt under upstream finds the stale-pdev use-after-free unaided, shrunk to two
// vCPUs; the finding file replays to the same outcome, through the library and through `repro --schedule`; a bad
// --known file is one line and exit 2; known groups mask what they should and nothing else.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type TrialPool } from '../../../lib/run/index.js';
import { CRASH_OUTCOMES } from '../../../lib/mem/crash.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { reproduce } from '../../../lib/explore/repro.js';
import { hunt } from '../../../lib/explore/hunt/hunt.js';
import { parseKnown, matches, KnownFileError, readKnown } from '../../../lib/explore/hunt/dedup.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const KNOWN = fileURLToPath(new URL('../../../../examples/hunt/known-defer-map.json', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('hunt: generated races, shrunk, written, replayed', function () {
  this.timeout(120_000);
  let pool: TrialPool;
  let dir = '';
  before(() => { pool = createPool(4); dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-hunt-')); });
  after(async () => { await pool.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const stalePdev = (f: { outcome: string; where?: string }): boolean => f.outcome === 'use-after-free' && f.where === 'vpci_process_pending';

  it('upstream: finds a use-after-free in vpci_process_pending unaided, shrinks it to 2 vCPUs, and the file replays it', async () => {
    const known = readKnown(KNOWN);     // stale mappings are the defer_map FIXME: not what this test waits for
    const s = await hunt(pool, { strategy: 'upstream', budgetMs: 60_000, seed: 1, runsPerProgram: 20, pctDepth: 3, out: dir, known, domu: 'off', command: 'test' },
      { shouldStop: (st) => st.findings.some(stalePdev) });
    // Other bugs open at HEAD (alldevs-walk's use-after-free in vpci_write, say) may come first: each is its own finding.
    const f = s.findings.find(stalePdev);
    assert.ok(f, `no use-after-free in vpci_process_pending in ${s.programs} programs / ${s.runs} runs (found: ${s.findings.map((x) => `${x.outcome}@${x.where}`).join(', ')})`);
    assert.ok(f.vcpus <= 2, `${f.vcpus} vCPUs`);
    assert.ok(f.replayed, 'the hunt\'s own replay from the file');
    const { url, scenario } = await loadScenario(f.file);
    for (let i = 0; i < 3; i++) {
      const r = await reproduce(pool, url, scenario, 'upstream', { runs: 1, chooser: 'pct', pctDepth: 3, seed: 0, schedule: f.schedule });
      assert.equal(r.firstFailure?.outcome, 'use-after-free');
      assert.equal(r.firstFailure?.where, 'vpci_process_pending');
      assert.equal(r.firstFailure?.schedule, f.schedule);
    }
    const text = fs.readFileSync(f.file, 'utf8');
    assert.match(text, /^\/\/ finding-\d+: use-after-free under upstream in vpci_process_pending/);
    assert.match(text, new RegExp(`export const schedule = '${f.schedule}';`));
    assert.doesNotMatch(text, /\bimport\b/, 'an ordinary scenario file needs no imports');
    const r = cli('repro', f.file, '--strategy', 'upstream', '--schedule', f.schedule, '--html', path.join(dir, 't.html'));
    assert.match(r.stdout, /replayed run: use-after-free \(forbidden for upstream\)/, r.stderr);
    assert.ok(CRASH_OUTCOMES.has(f.outcome));
  });

  // SIGTERM is what CI cancellation, Kubernetes and Slurm send: it must end the hunt as Ctrl-C does. The SIGTERM run
  // starts in a directory that holds an earlier run's finding-1.mjs, which must survive.
  for (const [sig, exit] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} ends the hunt with ${exit} and keeps every finding written so far (and an earlier run's), and the JSON`, async () => {
      const out = path.join(dir, `int ${sig}`), json = path.join(dir, `int-${sig}.json`), earlier = path.join(out, 'finding-1.mjs');
      if (sig === 'SIGTERM') { fs.mkdirSync(out, { recursive: true }); fs.writeFileSync(earlier, '// an earlier run\n'); }
      const first = sig === 'SIGTERM' ? 2 : 1;
      const child = spawn(process.execPath, [CLI, 'hunt', '--strategy', 'upstream', '--budget', '90s', '--domu', 'off', '--out', out, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', sent = false;
      const code = await new Promise<number | null>((resolve, reject) => {
        const deadline = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no finding or no exit in time: ${stdout}`)); }, 80_000);
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); if (!sent && new RegExp(`^finding ${first}:`, 'm').test(stdout)) { sent = true; child.kill(sig); } });
        child.on('exit', (c) => { clearTimeout(deadline); resolve(c); });
      });
      assert.equal(code, exit, stdout);
      const written = fs.readdirSync(out).filter((f) => /^finding-\d+\.mjs$/.test(f));
      assert.ok(written.includes(`finding-${first}.mjs`), `the finding file is kept: ${written.join(' ')}`);
      const j = JSON.parse(fs.readFileSync(json, 'utf8')) as { interrupted: boolean; findings: Array<{ id: number; file: string }> };
      assert.equal(j.interrupted, true);
      assert.equal(j.findings.length, written.length - first + 1);
      assert.equal(j.findings[0].id, first);
      for (const f of j.findings) assert.ok(fs.existsSync(f.file));
      if (sig === 'SIGTERM') assert.equal(fs.readFileSync(earlier, 'utf8'), '// an earlier run\n');
      // The directory's name has a space: the replay line quotes the path, so it runs as printed.
      assert.ok(stdout.includes(`vpci-lab repro '${path.join(out, `finding-${first}.mjs`)}' --strategy upstream --schedule S2:`), stdout);
    });
  }

  it('a bad --known file is one line on stderr and exit 2', () => {
    const cases: Array<[string, RegExp]> = [
      ['{ not json', /not JSON/], ['{"outcome":"stale-mapping"}', /expected a JSON list/], ['[{"outcome":"boom"}]', /group 0 has outcome "boom"/],
      ['[{"outcome":"stale-mapping","sites":"defer_map"}]', /"sites" that is not a list/], ['[{"outcome":"hang","colour":1}]', /unknown field "colour"/],
    ];
    for (const [text, re] of cases) {
      const f = path.join(dir, 'known.json');
      fs.writeFileSync(f, text);
      const r = cli('hunt', '--strategy', 'upstream', '--budget', '1s', '--known', f, '--out', dir);
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], re);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    const missing = cli('hunt', '--strategy', 'upstream', '--known', path.join(dir, 'nope.json'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr.trim(), /^vpci-lab: --known .*cannot read/);
  });

  it('known groups match by outcome, function and sites in order, and nothing else', () => {
    const [k] = parseKnown('[{"outcome":"use-after-free","where":"vpci_process_pending","sites":["defer_map","pci_remove_device:before-free"]}]', 'x');
    const g = { outcome: 'use-after-free' as const, where: 'vpci_process_pending', sites: ['cmd_write', 'defer_map', 'vpci_remove_device:after-free', 'pci_remove_device:before-free'] };
    assert.ok(matches(k, g));
    assert.ok(!matches(k, { ...g, sites: ['pci_remove_device:before-free', 'defer_map'] }), 'order matters');
    assert.ok(!matches(k, { ...g, where: 'vpci_read' }));
    assert.ok(!matches(k, { ...g, outcome: 'null-deref' }));
    assert.throws(() => parseKnown('[1]', 'x'), KnownFileError);
    const shipped = readKnown(KNOWN);
    assert.ok(shipped.some((x) => matches(x, { outcome: 'stale-mapping', where: 'stale-mapping scan: BAR enabled but not mapped in dN', sites: ['cmd_write', 'defer_map', 'map_range'] })));
    assert.ok(!shipped.some((x) => matches(x, g)), 'the defer_map file does not hide the stale-pdev use-after-free');
  });

  it('known-head.json names the bugs open at HEAD by their groups from the 10-minute hunts, and hides nothing else', () => {
    const head = readKnown(fileURLToPath(new URL('../../../../examples/hunt/known-head.json', import.meta.url)));
    const hidden = (outcome: 'use-after-free' | 'null-deref' | 'stale-mapping', where: string, sites: string) =>
      head.some((k) => matches(k, { outcome, where, sites: sites.split(' > ') }));
    // Groups as the hunts of upstream and upstream-drain reported them (docs/findings.md)
    assert.ok(hidden('use-after-free', 'vpci_process_pending', 'pci_get_pdev > vpci_write:after-lookup > cmd_write > modify_bars:for_each_pdev > defer_map > vpci_process_pending:before-lock > vpci_deassign_device > vpci_remove_device:after-free > pci_remove_device:before-free > free_pdev:after-list_del'));
    assert.ok(hidden('use-after-free', 'vpci_read', 'pci_get_pdev > vpci_read:after-lookup > free_pdev:after-list_del'));
    assert.ok(hidden('use-after-free', 'pci_get_pdev', 'pci_get_pdev > free_pdev:after-list_del'));
    assert.ok(hidden('use-after-free', 'spin_lock', 'PHYSDEVOP_pci_mmcfg_reserved > vpci_reinit_ext_capabilities > vpci_deassign_device > vpci_remove_device:after-free > vpci_assign_device'));
    assert.ok(hidden('null-deref', 'vpci_remove_registers', 'PHYSDEVOP_pci_mmcfg_reserved > vpci_reinit_ext_capabilities'));
    assert.ok(hidden('null-deref', 'PHYSDEVOP_pci_device_reset', 'PHYSDEVOP_pci_device_reset > pci_get_pdev'));
    // and not what the drain fixed on the other side, nor a crash of the resetting vCPU, nor the FIXME's stale mapping
    assert.ok(!hidden('use-after-free', 'vpci_remove_device', 'PHYSDEVOP_pci_device_reset > vpci_deassign_device > PHYSDEVOP_pci_mmcfg_reserved'));
    assert.ok(!hidden('null-deref', 'vpci_process_pending', 'defer_map > vpci_process_pending:before-lock'));
    assert.ok(!hidden('stale-mapping', 'stale-mapping scan: BAR enabled but not mapped in dN', 'cmd_write > defer_map > map_range'));
  });

  it('--known is repeatable: both files load, a bad second one is still one line and exit 2', () => {
    const ok = cli('hunt', '--strategy', 'upstream', '--budget', '1s', '--known', KNOWN, '--known', fileURLToPath(new URL('../../../../examples/hunt/known-head.json', import.meta.url)), '--out', dir);
    assert.notEqual(ok.status, 2, ok.stderr);
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{');
    const r = cli('hunt', '--strategy', 'upstream', '--budget', '1s', '--known', KNOWN, '--known', bad, '--out', dir);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
