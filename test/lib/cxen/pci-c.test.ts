// passthrough/pci.c compiled: the extraction of what the lab's paths reach (no tree needed), and on Debian's 4.17.5
// the compiled add / remove / assign / deassign under verify, and the stub a patch's new external call gets.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractClosure, topLevelItems } from '../../../lib/cxen/extract.js';
import { buildAddon } from '../../../lib/cxen/build.js';
import { XEN_417 } from '../../../lib/cxen/recipes.js';
import { cBackend } from '../../../lib/cxen/select.js';
import { createPool, TrialError, type TrialPool } from '../../../lib/run/index.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';
import { xen417OrSkip } from '../../helpers-xen.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

const C = `/* lock_unsafe() in a comment names nothing */
struct seg { int n; };
static struct seg *segs[4];
static int unused_table[2] = { 1, 2 };
#define TWICE(x) ((x) * 2)
static int helper(int x);
static DEFINE_LOCK(the_lock);
static int lock_unsafe(void) { return the_lock; }
static int helper(int x)
{
    return TWICE(x) + segs[0]->n;
}
custom_param("pci", parse_it);
static int parse_it(const char *s) { return helper(*s) + unused_table[0]; }
int root(int v)
{
    if ( v )
        return helper(v);
    return lock_unsafe();
}
`;

describe('pci.c extraction: the closure of the lab\'s roots over the file\'s call graph', () => {
  it('keeps the roots, their static callees, data and types; blanks the rest line for line', () => {
    const r = extractClosure(C, ['root'], ['lock_unsafe']);
    assert.deepEqual(r.functions, ['helper', 'root'], 'parse_it (only a macro argument names it) and the omitted lock_unsafe are out');
    assert.equal(r.text.split('\n').length, C.split('\n').length, 'line numbers are the tree\'s');
    assert.match(r.text, /static struct seg \*segs\[4\];/);
    assert.match(r.text, /struct seg \{ int n; \};/, 'a struct tag is kept where it is named');
    assert.match(r.text, /#define TWICE/, 'preprocessor lines stay');
    assert.match(r.text, /static int helper\(int x\);/, 'the prototype of a kept function stays');
    assert.doesNotMatch(r.text, /unused_table|custom_param|lock_unsafe\(void\)|DEFINE_LOCK/);
    assert.deepEqual(r.missing, []);
  });

  it('roots come from appended text too, never from its comments; a root the file lacks is reported', () => {
    const r = extractClosure(C, ['nope'], [], '/* root() would pull everything */\nint entry(void) { return helper(1); }');
    assert.deepEqual(r.functions, ['helper']);
    assert.deepEqual(r.missing, ['nope']);
    assert.match(r.text, /int entry\(void\)/);
  });

  it('tells functions from declarations and names each declarator', () => {
    const kinds = topLevelItems(C).filter((i) => i.kind !== 'pp').map((i) => `${i.kind}:${i.names.join(',')}`);
    assert.deepEqual(kinds, ['decl:seg', 'decl:segs', 'decl:unused_table', 'decl:helper', 'decl:DEFINE_LOCK,the_lock', 'function:lock_unsafe', 'function:helper',
      'decl:custom_param', 'function:parse_it', 'function:root']);
  });
});

describe('pci.c compiled (Debian\'s 4.17.5)', function () {
  this.timeout(300_000);
  let pool: TrialPool;
  let tree: string | undefined;
  before(async function () {
    tree = xen417OrSkip(this);
    pool = createPool(3);
  });
  after(async () => { await pool?.close(); });
  const opts = { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 3000, budgetMs: 150_000, seed: 1 };

  it('crash-path-4: the compiled assign_device and deassign_device run (no bug@assign_device), and only ok', async () => {
    const c = await cBackend({ xenSrc: tree });
    const { url, scenario } = await loadScenario('crash-path-4');
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    assert.equal(r.complete, true);
    assert.deepEqual(Object.keys(r.outcomes), ['ok']);
  });

  it('cancel-race: 4.17.5 moves the device and leaves its vPCI alone, so no use-after-free; the late DomU map is stale', async () => {
    const c = await cBackend({ xenSrc: tree });
    const { url, scenario } = await loadScenario('cancel-race');
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    assert.equal(r.complete, true);
    assert.equal(r.outcomes.bug, undefined, JSON.stringify(r.outcomes.bug));
    assert.equal(r.outcomes['use-after-free'], undefined);
    assert.ok(r.outcomes['stale-mapping'], Object.keys(r.outcomes).join(','));
  });

  it('alldevs-walk: 4.17.5\'s vpci_read looks up with no lock, and the compiled pci_get_pdev yields at each node of its walk: use-after-free there', async () => {
    const c = await cBackend({ xenSrc: tree });
    const { url, scenario } = await loadScenario('alldevs-walk');
    scenario.expect[c.strategy.name] = scenario.expect.baseline;     // judged as baseline, as the CLI does
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    assert.equal(r.complete, true);
    assert.deepEqual(r.outcomes['use-after-free']?.where, ['pci_get_pdev'], JSON.stringify(r.outcomes));
    assert.equal(r.forbidden, 0, 'baseline expects the walk\'s read at pci_get_pdev');
  });

  it('a patch that makes pci.c call a function nobody supplies gets a stub: reached, it is the lab\'s error (one line, exit 2), no outcome', async function () {
    const orig = fs.readFileSync(path.join(tree!, 'xen/drivers/passthrough/pci.c'), 'utf8');
    const anchor = '            vpci_remove_device(pdev);\n            pci_cleanup_msi(pdev);';
    if (!orig.includes(anchor)) this.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pci-stub-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.c'), orig);
      fs.writeFileSync(path.join(dir, 'b.c'), orig.replace(anchor, `${anchor}\n            reviewer_new_hook(pdev);`));
      const label = 'xen/drivers/passthrough/pci.c';
      let diff = '';
      try { execFileSync('diff', ['-u', '--label', `a/${label}`, '--label', `b/${label}`, 'a.c', 'b.c'], { cwd: dir }); } catch (e) { diff = String((e as { stdout: Buffer }).stdout); }
      const patch = path.join(dir, 'hook.patch');
      fs.writeFileSync(patch, `--- a/${label}\n${diff.split('\n').slice(1).join('\n')}`);
      const c = await cBackend({ xenSrc: tree, patches: [patch] });
      const { url, scenario } = await loadScenario('stale-pdev');
      const err = await verify(pool, url, scenario, c.strategy.name, { ...opts, bound: 0 }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TrialError, `no outcome is counted: the search stops (${String(err)})`);
      const fault = err.threads.find((t) => t.fault)?.fault;
      assert.match(fault ?? '', /^the C backend reached reviewer_new_hook, which the lab does not supply \(a generated stub\) in scenario stale-pdev \(actor d0v0\) under strategy \S+; no verdict$/);
      const r = spawnSync(process.execPath, [CLI, 'verify', 'stale-pdev', '--backend', 'c', '--xen-src', tree!, '--patch', patch, '--preemptions', '0'], { encoding: 'utf8', timeout: 200_000 });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('C backend:'));
      assert.deepEqual(lines, [`vpci-lab: ${fault}`]);
      assert.doesNotMatch(r.stdout, /refuted|verified/);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('one compile cache: a tree whose pci.c alone differs recompiles pci.c alone, and an unchanged build is a lookup', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-cc-'));
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-tree-'));
    try {
      for (const rel of [...XEN_417.sources, ...XEN_417.headers, 'xen/drivers/passthrough/pci.c']) {
        fs.mkdirSync(path.dirname(path.join(copy, rel)), { recursive: true });
        fs.copyFileSync(path.join(tree!, rel), path.join(copy, rel));
      }
      const objs = (): number => fs.readdirSync(path.join(cache, 'cc', 'obj')).filter((f) => f.endsWith('.o')).length;
      const a = await buildAddon({ xenDir: copy, cacheDir: cache });
      const before = objs();
      assert.equal((await buildAddon({ xenDir: copy, cacheDir: cache })).cached, true);
      const pci = path.join(copy, 'xen/drivers/passthrough/pci.c');
      fs.writeFileSync(pci, fs.readFileSync(pci, 'utf8').replace('int pci_remove_device(u16 seg, u8 bus, u8 devfn)\n{', 'int pci_remove_device(u16 seg, u8 bus, u8 devfn)\n{\n    /* a reviewer was here */'));
      const b = await buildAddon({ xenDir: copy, cacheDir: cache });
      assert.notEqual(b.path, a.path);
      assert.equal(objs(), before + 1, 'pci.o alone is new');
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
