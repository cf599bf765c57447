// CI and cluster semantics (issue 23): a verdict survives a closed pipe and SIGTERM, merge never counts a run
// twice, a diverging replay is bad input, outputs never overwrite each other, default names stay inside out/ and
// are one per run, and JUnit carries time, skipped cells and stress campaigns.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(JOB_COMPLETION_INDEX|CI_NODE_|SLURM_ARRAY_|VPCI_SHARD)/.test(k)));

function cli(args: string[], cwd?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, cwd, env: CLEAN_ENV });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function refused(args: string[], pattern: RegExp, cwd?: string): void {
  const r = cli(args, cwd);
  assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.match(lines[0], pattern);
}

const STRICT = `export default { name: 'strict', description: 'removal racing a read; baseline must stay ok (it does not)',
  actors: { d0v0(x) { x.remove(x.dev(0)); x.resume(); }, d0v1(x) { x.read(x.dev(0), x.regs.PCI_VENDOR_ID, 4); x.resume(); } },
  expect: { '*': { expected: ['ok'] } } };`;

describe('CI and cluster semantics', function () {
  this.timeout(240_000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-ci-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const f = (name: string): string => path.join(dir, name);

  it('explore | head -1 exits 1 where the verdict is 1: a closed stdout is not a success', () => {
    fs.writeFileSync(f('strict.mjs'), STRICT);
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" explore --scenarios ${f('strict.mjs')} --strategies baseline --runs 30 --html ${f('p.html')} | head -1`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|internal error/);
    assert.ok(fs.existsSync(f('p.html')), 'the report is still written');
  });

  it('SIGTERM ends like Ctrl-C: summary, JSON, JUnit and HTML written, exit 143', async () => {
    const args = ['stress', '--strategy', 'baseline,upstream', '--duration', '120s', '--json', f('t.json'), '--junit', f('t.xml'), '--html', f('t.html'), '--jsonl', f('t.jsonl')];
    const p = spawn(process.execPath, [CLI, ...args], { env: CLEAN_ENV });
    let stdout = '';
    p.stdout.on('data', (d) => { stdout += d; });
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => p.kill('SIGKILL'), 60_000);
      // Terminate once a few trials were counted (a trial line arrives in the JSON lines).
      const poll = setInterval(() => {
        if (fs.existsSync(f('t.jsonl')) && fs.readFileSync(f('t.jsonl'), 'utf8').split('\n').length > 4) { clearInterval(poll); p.kill('SIGTERM'); }
      }, 100);
      p.on('close', (c) => { clearTimeout(kill); clearInterval(poll); resolve(c); });
    });
    assert.equal(code, 143, stdout);
    assert.match(stdout, /^strategy\s+trials/m, 'the summary is printed');
    const j = JSON.parse(fs.readFileSync(f('t.json'), 'utf8'));
    assert.equal(j.interrupted, true);
    assert.ok(j.results.length === 2 && j.results[0].trials > 0);
    assert.match(fs.readFileSync(f('t.xml'), 'utf8'), /<testsuites name="vpci-lab stress" tests="2"/);
    assert.match(fs.readFileSync(f('t.html'), 'utf8'), /<table class="matrix"/);
  });

  it('merge refuses a file or result given twice, a shard twice and an unsharded file among shards (one line, exit 2)', () => {
    const base = ['explore', '--scenarios', 'crash-path-1', '--strategies', 'baseline', '--runs', '4'];
    for (const [name, extra] of [['a', []], ['s1', ['--shard', '1/2']], ['s2', ['--shard', '2/2']]] as const) {
      assert.notEqual(cli([...base, ...extra, '--json', f(`${name}.json`), '--html', f(`${name}.html`)]).code, 2);
    }
    fs.copyFileSync(f('a.json'), f('a-copy.json'));
    refused(['merge', f('a.json'), f('a.json')], /a\.json is given twice/);
    refused(['merge', f('a.json'), f('a-copy.json')], /are the same result/);
    refused(['merge', f('s1.json'), f('s1.json'), f('s2.json'), '--partial'], /given twice/);
    refused(['merge', f('s1.json'), f('a.json'), f('s2.json')], /a\.json is an unsharded explore result among shards/);
    refused(['merge', f('s1.json'), f('s2.json'), '--json', f('s1.json')], /name the same file/);
    const ok = cli(['merge', f('s1.json'), f('s2.json'), '--json', f('m.json'), '--html', f('m.html')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(fs.readFileSync(f('m.json'), 'utf8')).cells[0].runs, 4);
  });

  it('verify --merge refuses a cell searched twice', () => {
    const r = cli(['verify', 'crash-path-1', '--strategy', 'baseline', '--preemptions', '0', '--json', f('v.json'), '--report', f('v.html'), '--html', f('vt.html')]);
    assert.equal(r.code, 0, r.stderr);
    fs.copyFileSync(f('v.json'), f('v2.json'));
    refused(['verify', '--merge', `${f('v.json')},${f('v.json')}`, '--report', f('vm.html')], /given twice/);
    const w = JSON.parse(fs.readFileSync(f('v2.json'), 'utf8'));
    w.cells[0].ms += 1;
    fs.writeFileSync(f('v2.json'), JSON.stringify(w));
    refused(['verify', '--merge', `${f('v.json')},${f('v2.json')}`, '--report', f('vm.html')], /searched whole in both/);
  });

  it('a replay that diverges is bad input (exit 2), not a forbidden outcome', () => {
    refused(['repro', 'crash-path-1', '--strategy', 'baseline', '--schedule', 'S1:2:b1', '--html', f('d.html')], /replay diverged/);
  });

  it('outputs never overwrite each other: --json X --html X, verify --html X --report X', () => {
    refused(['explore', '--json', f('same'), '--html', f('same')], /--json and --html name the same file/);
    refused(['verify', 'crash-path-1', '--strategy', 'baseline', '--html', f('same'), '--report', f('same')], /--html and --report name the same file/);
    refused(['repro', 'crash-path-1', '--strategy', 'baseline', '--json', f('same'), '--html', f('same')], /name the same file/);
  });

  it('default report names are one per run and stay inside out/, whatever the scenario is called', () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'cwd-'));
    const evil = `x/../../../../${path.basename(dir)}-pwned`;
    fs.writeFileSync(path.join(cwd, 'evil.mjs'), STRICT.replace("name: 'strict'", `name: ${JSON.stringify(evil)}`));
    cli(['repro', 'evil.mjs', '--strategy', 'baseline', '--runs', '30'], cwd);
    cli(['repro', 'evil.mjs', '--strategy', 'baseline', '--runs', '30'], cwd);
    const files = fs.readdirSync(path.join(cwd, 'out'));
    assert.equal(files.length, 2, `two runs, two timelines: ${files.join(', ')}`);
    for (const x of files) assert.match(x, /^repro-x_\.\._\.\._\.\._\.\._[^/]*-pwned-baseline-\d{8}-\d{6}-\d+\.html$/);
    assert.ok(!fs.readdirSync(path.dirname(dir)).some((x) => x.startsWith(`${path.basename(dir)}-pwned`)), 'nothing written outside out/');
  });

  it('JUnit: time on every test case, unfinished cells skipped when interrupted', async () => {
    const r = cli(['explore', '--scenarios', 'crash-path-1', '--strategies', 'baseline,upstream', '--runs', '3', '--junit', f('e.xml'), '--html', f('e.html')]);
    assert.notEqual(r.code, 2, r.stderr);
    const x = fs.readFileSync(f('e.xml'), 'utf8');
    assert.equal((x.match(/<testcase [^>]*time="\d+\.\d{3}"/g) ?? []).length, 2);
    const p = spawn(process.execPath, [CLI, 'explore', '--strategies', 'baseline', '--runs', '200', '--junit', f('i.xml'), '--html', f('i.html')], { env: CLEAN_ENV });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => { if (/done/.test(out)) { clearInterval(poll); p.kill('SIGINT'); } }, 50);
      p.on('close', (c) => { clearInterval(poll); resolve(c); });
    });
    assert.equal(code, 130);
    const i = fs.readFileSync(f('i.xml'), 'utf8');
    const skipped = (i.match(/<skipped message="not run: the run was interrupted"\/>/g) ?? []).length;
    const cases = (i.match(/<testcase /g) ?? []).length;
    assert.ok(skipped > 0 && cases > skipped, `${skipped} of ${cases} skipped`);
    assert.match(i, new RegExp(`<testsuites name="vpci-lab explore" tests="${cases}" failures="\\d+" errors="0" skipped="${skipped}"`));
  });

  it('stress --junit: a test case per strategy, its crashes failures with their first trial; JSON lines with a header merge after a kill', () => {
    const r = cli(['stress', '--strategy', 'baseline,pcidevs', '--trials', '12', '--junit', f('s.xml'), '--jsonl', f('s.jsonl'), '--html', f('s.html')]);
    assert.equal(r.code, 0, r.stderr);
    const x = fs.readFileSync(f('s.xml'), 'utf8');
    // Which forbidden outcome a free-running campaign meets first depends on timing (under load a stale mapping,
    // the defer_map FIXME, sometimes comes before the crashes): the case is failed by it, whichever it is.
    assert.match(x, /<testcase classname="vpci-lab.stress.campaign" name="baseline" time="\d+\.\d{3}">\n\s+<failure type="(null-deref|use-after-free|stale-mapping|assert|double-free)" message="[^"]*forbidden for baseline[^"]*">[^<]*replay: vpci-lab stress --strategy baseline --seed \d+ --trials 1/);
    assert.match(x, /name="pcidevs"/);
    const lines = fs.readFileSync(f('s.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].header.seed, 1);
    assert.deepEqual(lines[0].header.strategies, ['baseline', 'pcidevs']);
    assert.equal(lines.length, 25);
    const m = cli(['merge', f('s.jsonl'), '--json', f('sm.json'), '--html', f('sm.html')]);
    assert.notEqual(m.code, 2, m.stderr);
    const j = JSON.parse(fs.readFileSync(f('sm.json'), 'utf8'));
    assert.deepEqual(j.results.map((t: { strategy: string; trials: number }) => [t.strategy, t.trials]), [['baseline', 12], ['pcidevs', 12]]);
  });
});
