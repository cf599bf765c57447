// Bad input: one clear line on stderr, exit code 2, never a stack trace or a hang.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The scripts a user runs with node, by path from the repository's root. */
const SCRIPT = (p: string): string => path.join(ROOT, p);

function run(file: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [file, ...args], { encoding: 'utf8', timeout: 30_000, cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const cli = (...args: string[]): ReturnType<typeof run> => run(CLI, args);

/** One line on stderr, starting with the program's name, exit 2, no stack trace. */
function oneLine(r: ReturnType<typeof run>, prog: string, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `exit code of ${what}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.ok(lines[0].startsWith(`${prog}: `), lines[0]);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}
const usageError = (args: string[], pattern: RegExp): void => oneLine(cli(...args), 'vpci-lab', pattern, args.join(' '));
const scriptError = (file: string, prog: string, args: string[], pattern: RegExp): void => oneLine(run(SCRIPT(file), args), prog, pattern, `${file} ${args.join(' ')}`);

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
  for (const [bad, why] of [
    ['S2:2:s1:d0c00ad2', /expected S2:<threads>:s<seed>/], ['S2:2:s1:xyz:b14a26', /expected S2/], ['S2:2:s1:d0c00ad2:b14a26:f3,2', /ascend/],
    ['S2:2:s1:d0c00ad2:b14a26:f5000', /fault index past/], ['S2:2:s99999999999:d0c00ad2:b14a26', /expected S2|seed/], ['S2:3:s1:d0c00ad2:b14a26', /schedule is for 3 thread/],
    ['S2:2:s1:d0c00ad2:c14', /thread 'c'/], ['S1:2:b14a26:f1', /unexpected ':'/], ['S3:2:b14a26', /unknown version 'S3'/],
  ] as const) {
    it(`repro with a malformed replay string: ${bad}`, () => usageError(['repro', 'crash-path-1', '--strategy', 'baseline', '--schedule', bad, '--html', path.join(dir, 'x.html')], why));
  }
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
  it('a negative number says what range is allowed', () => usageError(['stress', '--seed', '-1'], /--seed must be between 0 and \d+, got -1/));
  it('an output path that cannot be written is refused before any work', () => {
    const t0 = Date.now();
    usageError(['stress', '--json', '/nonexistent/dir/x.json'], /--json .*does not exist/);
    usageError(['explore', '--junit', dir], /--junit .*is a directory/);
    usageError(['stress', '--trials', '1', '--html-dir', '/nonexistent/a/b'], /Unknown option|does not exist/);
    assert.ok(Date.now() - t0 < 20_000, 'refused before the campaign');
  });
  it('explore with an unknown strategy', () => usageError(['explore', '--strategies', 'nope'], /unknown strategy/));
  it('no command: the usage on stdout, one line on stderr, exit 2', () => {
    const r = cli();
    oneLine(r, 'vpci-lab', /which command\?/, '(nothing)');
    assert.match(r.stdout, /^usage: vpci-lab <command>/);
  });
  it('a list with an empty item (a stray comma) is refused, not run without it', () => {
    usageError(['explore', '--scenarios', ','], /--scenarios has an empty item in ','/);
    usageError(['explore', '--scenarios', 'crash-path-1,,abba'], /--scenarios has an empty item/);
    usageError(['verify', ',', '--strategy', 'baseline'], /scenario list has an empty item/);
    usageError(['explore', '--strategies', 'baseline,,cancel', '--runs', '1'], /strategy list has an empty item in 'baseline,,cancel'/);
    usageError(['stress', '--strategy', 'baseline,', '--trials', '1'], /strategy list has an empty item/);
    usageError(['verify', '--merge', ','], /--merge has an empty item/);
    usageError(['verify', 'crash-path-1', '--strategy', 'baseline', '--faults', 'iommu,'], /--faults has an empty item/);
    usageError(['bench', 'find', '--methods', 'pct,'], /--methods has an empty item/);
  });
  it('diff-backends checks scenario and strategy names before it compiles a tree', () => {
    usageError(['diff-backends', '--scenarios', 'nope', '--xen-src', dir], /unknown scenario 'nope'/);
    usageError(['diff-backends', '--strategy', 'nope', '--xen-src', dir], /unknown strategy 'nope'/);
  });
  it('help exits 0 and lists the commands', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    for (const c of ['stress', 'repro', 'explore', 'list', 'bench']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  });
});

describe('scripts a user runs with node: bad input is one line and exit 2, --help is usage and exit 0', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-scripts-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const SCHED = 'dist/commands/bench/sched.js', HUNT = 'dist/commands/bench/hunt.js';
  for (const [args, why] of [
    [['--help-me'], /Unknown option '--help-me'/], [['--threads', '0'], /--threads must be between 1 and \d+, got 0/],
    [['--threads', '-1'], /--threads must be between 1 and \d+, got -1/], [['--threads'], /argument missing/],
    [['--yields', 'x'], /--yields wants a whole number, got 'x'/], [['--runs', '0'], /--runs must be between 1/],
    [['--chooser', 'dfs'], /--chooser must be random or pct, got 'dfs'/], [['--spin', 'x'], /--spin wants a whole number/],
    [['extra'], /Unexpected argument 'extra'/],
  ] as const) {
    it(`bench/sched.js ${args.join(' ')}`, () => scriptError(SCHED, 'bench/sched', [...args], why));
  }
  it('bench/sched.js and bench/hunt.js --help: their own usage, exit 0', () => {
    for (const f of [SCHED, HUNT]) {
      const r = run(SCRIPT(f), ['--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`usage: node ${f} `), r.stdout);
      assert.equal(r.stderr, '');
    }
  });
  it('bench/hunt.js: a duration it cannot read, a bad count, an output it cannot write (before any work)', () => {
    scriptError(HUNT, 'bench/hunt', ['--budget', '1h'], /--budget wants a duration/);
    scriptError(HUNT, 'bench/hunt', ['--seeds', '0'], /--seeds must be between 1/);
    scriptError(HUNT, 'bench/hunt', ['--json', '/nonexistent/dir/h.json'], /--json .*does not exist/);
  });
  it('scripts/*.mjs refuse unknown options and stray arguments instead of running without them', () => {
    const readme = fs.readFileSync(SCRIPT('README.md'), 'utf8');
    scriptError('scripts/readme-tables.mjs', 'readme:tables', ['--frob'], /Unknown option '--frob'/);
    assert.equal(fs.readFileSync(SCRIPT('README.md'), 'utf8'), readme, 'nothing rewritten');
    scriptError('scripts/model-api.mjs', 'docs:api', ['extra'], /Unexpected argument 'extra'/);
    scriptError('scripts/check-layers.mjs', 'check:layers', ['--frob'], /Unknown option '--frob'/);
    scriptError('scripts/bench-search.mjs', 'bench-search', ['x.dump', '--rounds', '0'], /--rounds wants a whole number of 1 or more/);
    scriptError('scripts/verify-compare.mjs', 'verify-compare', ['a', 'b', 'c'], /too many arguments/);
  });
  it('verify-compare: a JSON that is not verify\'s is bad input, not a TypeError', () => {
    const f = path.join(dir, 'other.json');
    fs.writeFileSync(f, '{"command":"explore"}');
    scriptError('scripts/verify-compare.mjs', 'verify-compare', [f, f], /is not the JSON of vpci-lab verify/);
  });
});

describe('command line: repro and explore outputs', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-out-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('repro prints the schedule and interleaving, writes the JSON and an HTML timeline; the schedule replays', () => {
    const json = path.join(dir, 'r.json'), html = path.join(dir, 't.html');
    const r = cli('repro', 'crash-path-1', '--strategy', 'baseline', '--json', json, '--html', html);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /schedule: S2:2:s1:[0-9a-f]{8}:/);
    assert.match(r.stdout, /interleaving:/);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(j.scenario, 'crash-path-1');
    assert.equal(j.strategy, 'baseline');
    assert.equal(j.firstFailure.outcome, 'null-deref');
    assert.match(fs.readFileSync(html, 'utf8'), /^<!doctype html>/i);
    const again = cli('repro', 'crash-path-1', '--strategy', 'baseline', '--schedule', j.firstFailure.schedule, '--html', html);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /replayed run: null-deref/);
  });

  it('an S1 string still replays, with a note, and prints its S2 form; an S2 string with a wrong digest is refused', () => {
    const html = path.join(dir, 't1.html');
    const r = cli('repro', 'crash-path-1', '--strategy', 'baseline', '--html', html);
    const s2 = /schedule: (S2:2:s1:([0-9a-f]{8}):([a-z\d]+))\n/.exec(r.stdout)!;
    assert.ok(s2, r.stdout);
    const old = cli('repro', 'crash-path-1', '--strategy', 'baseline', '--schedule', `S1:2:${s2[3]}`, '--html', html);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stdout, /replayed run: null-deref/);
    assert.ok(old.stdout.includes(`schedule: ${s2[1]}\n`), old.stdout);
    assert.match(old.stdout, /note: an S1 schedule carries no model seed or site digest/);
    const wrong = `S2:2:s1:${((parseInt(s2[2], 16) ^ 1) >>> 0).toString(16).padStart(8, '0')}:${s2[3]}`;
    usageError(['repro', 'crash-path-1', '--strategy', 'baseline', '--schedule', wrong, '--html', html], /replay diverged: .*changed since it was printed, so this run \(it ended in null-deref in vpci_process_pending\) is another interleaving/);
  });

  it('explore prints the matrix and writes one JSON cell per scenario and strategy', () => {
    const json = path.join(dir, 'e.json');
    const r = cli('explore', '--scenarios', 'crash-path-1,abba', '--strategies', 'baseline,cancel-all', '--runs', '20', '--json', json);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /crash-path-1\s+null-deref\+/);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(j.cells.length, 4);
    for (const c of j.cells) assert.equal(Object.values(c.outcomes as Record<string, number>).reduce((a, b) => a + b, 0), 20);
  });

  it('a write that fails at the end keeps the results on the terminal and exits 1', () => {
    if (!fs.existsSync('/dev/full')) return;
    const r = cli('explore', '--scenarios', 'crash-path-1', '--strategies', 'baseline', '--runs', '3', '--json', '/dev/full');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /crash-path-1\s+null-deref\+/, 'the matrix is printed');
    assert.match(r.stderr, /could not write \/dev\/full: no space left on device/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('exit 1 and a JUnit failure with its schedule when a scenario sees a forbidden outcome', () => {
    const f = path.join(dir, 'strict.mjs'), junit = path.join(dir, 'j.xml');
    fs.writeFileSync(f, `export default { name: 'strict', description: 'removal racing a read; baseline must stay ok (it does not)',
      actors: { d0v0(x) { x.remove(x.dev(0)); x.resume(); }, d0v1(x) { x.read(x.dev(0), x.regs.PCI_VENDOR_ID, 4); x.resume(); } },
      expect: { '*': { expected: ['ok'] } } };`);
    const html = path.join(dir, 'strict.html');
    const r = cli('explore', '--scenarios', `crash-path-4,${f}`, '--strategies', 'baseline', '--runs', '30', '--junit', junit, '--html', html);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(fs.readFileSync(html, 'utf8'), /vpci-lab repro \S+strict\.mjs --strategy baseline --schedule S2:2:s1:[0-9a-f]{8}:/, 'the HTML report\'s replay line');
    const x = fs.readFileSync(junit, 'utf8');
    assert.match(x, /^<\?xml/);
    assert.equal((x.match(/<testcase /g) ?? []).length, 2);
    assert.match(x, /<testcase classname="vpci-lab.explore.strict" name="baseline" time="[\d.]+">\n\s+<failure type="[a-z-]+" message="[^"]*forbidden for baseline[^"]*">[^<]*schedule: S2:2:s1:[0-9a-f]{8}:[^<]*replay: vpci-lab repro \S+ --strategy baseline --schedule S2:2:/);
    assert.match(x, /<testcase classname="vpci-lab.explore.crash-path-4" name="baseline" time="[\d.]+">\n\s+<system-out>/);
    const ok = cli('explore', '--scenarios', 'crash-path-4', '--strategies', 'baseline', '--runs', '5');
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('verify writes the shared HTML report and JUnit: a test case per cell, no failure when every reachable outcome is allowed', () => {
    const html = path.join(dir, 'v.html'), junit = path.join(dir, 'v.xml');
    const r = cli('verify', 'crash-path-1', '--strategy', 'baseline,upstream', '--preemptions', '1', '--report', html, '--junit', junit);
    assert.equal(r.code, 0, r.stderr);
    const x = fs.readFileSync(junit, 'utf8');
    assert.equal((x.match(/<testcase /g) ?? []).length, 2);
    assert.doesNotMatch(x, /<failure/);
    assert.match(x, /classname="vpci-lab.verify.crash-path-1" name="baseline"/);
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /<table class="matrix" id="matrix">/);
    assert.match(page, /refuted/);
    assert.match(page, /<div class="timeline">/);
  });

  it('list names every built-in scenario and strategy', () => {
    const r = cli('list', '--json');
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.ok(j.scenarios.length >= 9 && j.strategies.length >= 6);
  });
});
