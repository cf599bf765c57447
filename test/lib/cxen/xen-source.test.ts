// The C backend's source side (lib/cxen/source): a tree that is not Xen, patches applied to a copy (and the one
// line naming the hunk that does not apply), the content-hashed caches, the compiler cache and its errors,
// provenance, and the apt source list built from the machine's configuration.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, statSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { prepareXenTree, compileCached, xenProvenance, provenanceLine, XenSourceError, CompileError, NO_CC } from '../../../lib/cxen/source/index.js';
import { parseDeb822, parseOneLine, debSrcList, debianUpstream, ownSuite, codenameOf } from '../../../lib/cxen/source/apt-sources.js';
import { parseDeps } from '../../../lib/cxen/source/compile.js';
import { fakeXenTree, skipBecause, noCompiler } from '../../helpers-xen.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'vpci-xsrc-test-'));
const rejects = (f: () => unknown, kind: string, re: RegExp): void => {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof XenSourceError, String(e));
    assert.equal(e.kind, kind);
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, re);
    return true;
  });
};

/** A unified diff of header.c from the fake tree: hunk #1 changes line 5, hunk #2 line 30. */
function headerPatch(second = 'line 30'): string {
  return [
    '--- a/xen/drivers/vpci/header.c', '+++ b/xen/drivers/vpci/header.c',
    '@@ -4,3 +4,3 @@ vpci_process_pending', ' line 4', '-line 5', '+line five', ' line 6',
    '@@ -29,3 +29,3 @@ modify_bars', ' line 29', `-${second}`, '+line thirty', ' line 31', '',
  ].join('\n');
}

describe('Xen source: trees and patches', () => {
  const cache = tmp();

  it('a directory that is not a Xen tree is one line naming what is missing (and the parent, for xen/ itself)', () => {
    rejects(() => prepareXenTree({ src: tmp(), cacheDir: cache }), 'not-xen', /not a Xen tree \(no xen\/Makefile\)$/);
    rejects(() => prepareXenTree({ src: '/nonexistent/xen-tree', cacheDir: cache }), 'not-xen', /no such directory/);
    const t = fakeXenTree();
    rejects(() => prepareXenTree({ src: join(t, 'xen'), cacheDir: cache }), 'not-xen', new RegExp(`did you mean ${t}\\?`));
    rmSync(join(t, 'xen/drivers/vpci/vpci.c'));
    rejects(() => prepareXenTree({ src: t, cacheDir: cache }), 'not-xen', /no xen\/drivers\/vpci\/vpci\.c/);
  });

  it('without patches the tree is used in place; version, generation and the vPCI files\' hashes', () => {
    const t = fakeXenTree();
    const x = prepareXenTree({ src: t, cacheDir: cache });
    assert.equal(x.dir, t);
    assert.equal(x.version, '4.17.5');
    assert.equal(x.generation, 'l21');
    assert.equal(x.origin, 'tree');
    assert.deepEqual(Object.keys(x.files), ['xen/common/rangeset.c', 'xen/drivers/vpci/header.c', 'xen/drivers/vpci/vpci.c']);
    process.env.VPCI_XEN_SRC = t;
    try { assert.equal(prepareXenTree({ cacheDir: cache }).dir, t, '$VPCI_XEN_SRC is the default tree'); } finally { delete process.env.VPCI_XEN_SRC; }
    const head = fakeXenTree({ 'xen/drivers/vpci/vpci.c': 'int vpci_assign_device(void);\n' }, ['4', '23', '-unstable']);
    assert.deepEqual([prepareXenTree({ src: head, cacheDir: cache }).generation, prepareXenTree({ src: head, cacheDir: cache }).version], ['head', '4.23-unstable']);
  });

  it('patches apply to a copy, never the user\'s tree; the copy is reused while tree and patches are unchanged', () => {
    const t = fakeXenTree();
    const before = readFileSync(join(t, 'xen/drivers/vpci/header.c'), 'utf8');
    const p = join(tmp(), 'fix.patch');
    writeFileSync(p, headerPatch());
    const x = prepareXenTree({ src: t, patches: [p], cacheDir: cache });
    assert.notEqual(x.dir, t);
    assert.equal(readFileSync(join(t, 'xen/drivers/vpci/header.c'), 'utf8'), before, 'the user\'s tree is untouched');
    assert.match(readFileSync(join(x.dir, 'xen/drivers/vpci/header.c'), 'utf8'), /^line five$[^]*^line thirty$/m);
    assert.equal(x.patches.length, 1);
    assert.equal(x.patches[0].sha256.length, 64);
    assert.deepEqual(x.patches[0].files, ['xen/drivers/vpci/header.c']);
    writeFileSync(join(x.dir, 'sentinel'), '');
    const y = prepareXenTree({ src: t, patches: [p], cacheDir: cache });
    assert.equal(y.dir, x.dir);
    assert.ok(existsSync(join(y.dir, 'sentinel')), 'the cached copy, not a new one');
    writeFileSync(join(t, 'xen/common/rangeset.c'), 'int rangeset2;\n');
    assert.notEqual(prepareXenTree({ src: t, patches: [p], cacheDir: cache }).dir, x.dir, 'a changed tree is a new copy');
  });

  it('a patch that does not apply is one line naming the patch, the hunk and the file', () => {
    const t = fakeXenTree();
    const p = join(tmp(), 'stale.patch');
    writeFileSync(p, headerPatch('line thirty-nine'));
    rejects(() => prepareXenTree({ src: t, patches: [p], cacheDir: cache }), 'patch', /^stale\.patch: hunk #2 \(@@ -29,3 \+29,3 @@\) of xen\/drivers\/vpci\/header\.c does not apply$/);
    const other = join(tmp(), 'other.patch');
    writeFileSync(other, headerPatch().replaceAll('vpci/header.c', 'vpci/nothere.c'));
    rejects(() => prepareXenTree({ src: t, patches: [other], cacheDir: cache }), 'patch', /other\.patch: .*nothere\.c/);
    const text = join(tmp(), 'notes.patch');
    writeFileSync(text, 'just words\n');
    rejects(() => prepareXenTree({ src: t, patches: [text], cacheDir: cache }), 'patch', /not a unified diff/);
    rejects(() => prepareXenTree({ src: t, patches: ['/nonexistent.patch'], cacheDir: cache }), 'patch', /no such file/);
    const twice = join(tmp(), 'fix.patch');
    writeFileSync(twice, headerPatch());
    rejects(() => prepareXenTree({ src: t, patches: [twice, twice], cacheDir: cache }), 'patch', /already applied/);
  });

  it('provenance: version, commit and local changes of a git checkout, file and patch hashes, one line', function () {
    try { execFileSync('git', ['--version'], { stdio: 'ignore' }); } catch { skipBecause(this, 'git is not installed'); }
    const t = fakeXenTree();
    const git = (...a: string[]): string => execFileSync('git', ['-C', t, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();
    git('init', '-q'); git('add', '.'); git('commit', '-qm', 'fake');
    const commit = git('rev-parse', 'HEAD');
    const p = join(tmp(), 'fix.patch');
    writeFileSync(p, headerPatch());
    const prov = xenProvenance(prepareXenTree({ src: t, patches: [p], cacheDir: cache }));
    assert.equal(prov.commit, commit);
    assert.equal(prov.dirty, undefined);
    assert.equal(prov.files['xen/drivers/vpci/header.c'].length, 64);
    assert.notEqual(prov.files['xen/drivers/vpci/header.c'], xenProvenance(prepareXenTree({ src: t, cacheDir: cache })).files['xen/drivers/vpci/header.c'], 'the patched file\'s hash');
    assert.deepEqual(prov.patches.map((x) => [x.path, x.sha256.length]), [[p, 64]]);
    assert.match(provenanceLine(prov), new RegExp(`^Xen 4\\.17\\.5 at ${commit.slice(0, 10)}, l21 generation, 3 files \\(sha256 of all [0-9a-f]{12}\\), patches: fix\\.patch \\(sha256 [0-9a-f]{12}\\)$`));
    writeFileSync(join(t, 'xen/common/rangeset.c'), 'changed\n');
    assert.equal(xenProvenance(prepareXenTree({ src: t, cacheDir: cache })).dirty, true);
  });
});

describe('Xen source: the compiler cache', () => {
  const cache = tmp();
  const src = tmp();
  writeFileSync(join(src, 'h.h'), '#define X 3\n');
  writeFileSync(join(src, 'a.c'), '#include "h.h"\nint f(void) { return X + Y; }\n');
  writeFileSync(join(src, 'bad.c'), 'int g(void) { return y; }\n');
  const spec = { sources: [{ path: join(src, 'a.c'), flags: ['-fPIC'] }], includeDirs: [src], defines: { Y: 1 }, flags: ['-O2'], linkFlags: ['-shared'], out: 'a.so', cacheDir: cache };

  it('compiles once; the same inputs hit the cache; a changed header or flag compiles again', async function () {
    const why = noCompiler();
    if (why) skipBecause(this, why);
    const a = await compileCached(spec);
    assert.equal(a.cached, false);
    assert.ok(statSync(a.path).size > 0);
    assert.ok(a.inputs[join(src, 'h.h')], 'the header the compiler read is an input');
    const b = await compileCached(spec);
    assert.deepEqual([b.cached, b.path], [true, a.path]);
    const c = await compileCached({ ...spec, defines: { Y: 2 } });
    assert.equal(c.cached, false);
    assert.notEqual(c.path, a.path);
    writeFileSync(join(src, 'h.h'), '#define X 4\n');
    const d = await compileCached(spec);
    assert.equal(d.cached, false);
    assert.notEqual(d.path, a.path);
  });

  it('a compiler error is one line (the first error) and keeps the first lines of the output', async function () {
    const why = noCompiler();
    if (why) skipBecause(this, why);
    await assert.rejects(compileCached({ ...spec, sources: [{ path: join(src, 'bad.c') }] }), (e: unknown) => {
      assert.ok(e instanceof CompileError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /^compiling bad\.c failed: .*bad\.c:1:\d+: error: .y. undeclared/);
      assert.ok(e.lines.length >= 2 && e.lines.length <= 20, String(e.lines.length));
      return true;
    });
    await assert.rejects(compileCached({ ...spec, sources: [{ path: join(src, 'a.c') }], linkFlags: ['-lnonexistent_vpci_lib'] }), /^CompileError: linking a\.so failed: .*nonexistent_vpci_lib/);
  });

  it('works from a worker thread: the same inputs hit the main thread\'s cache entry', async function () {
    const why = noCompiler();
    if (why) skipBecause(this, why);
    const here = await compileCached(spec);
    const url = new URL('../../../lib/cxen/source/compile.js', import.meta.url).href;
    const code = `const { compileCached } = await import(${JSON.stringify(url)}); const { parentPort, workerData } = await import('node:worker_threads');
      parentPort.postMessage(await compileCached(workerData));`;
    const w = new Worker(code, { eval: true, workerData: spec });
    const got = await new Promise<{ path: string; cached: boolean }>((res, rej) => { w.once('message', res); w.once('error', rej); });
    await w.terminate();
    assert.deepEqual([got.path, got.cached], [here.path, true]);
  });

  it('no compiler: the one line the C backend prints', async () => {
    await assert.rejects(compileCached({ ...spec, cc: '/nonexistent/cc' }), (e: unknown) => e instanceof XenSourceError && e.kind === 'no-cc' && e.message === NO_CC);
  });

  it('reads make-style dependency files', () => {
    assert.deepEqual(parseDeps('/t/a.o: /t/a.c /t/h.h \\\n /usr/include/x\\ y.h\n\n/t/h.h:\n'), ['/t/a.c', '/t/h.h', '/usr/include/x y.h']);
  });
});

describe('Xen source: apt\'s deb-src list from the machine\'s configuration', () => {
  const deb822 = [
    'Types: deb', '# a comment', 'URIs: http://mirror.example/debian', 'Suites: bookworm bookworm-updates', 'Components: main contrib',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg', '',
    'Types: deb deb-src', 'URIs: http://security.example/debian-security', 'Suites: bookworm-security', 'Components: main', '',
    'Types: deb', 'Enabled: no', 'URIs: http://off.example/', 'Suites: bookworm', 'Components: main', '',
    'Types: deb-src', 'URIs: http://src-only.example/', 'Suites: bookworm', 'Components: main', '',
    'Types: deb', 'URIs: http://inline.example/', 'Suites: bookworm', 'Components: main', 'Signed-By:', ' -----BEGIN PGP PUBLIC KEY BLOCK-----', ' .', ' abc', ' -----END PGP PUBLIC KEY BLOCK-----',
  ].join('\n');
  const oneLine = [
    '# deb http://commented.example/ bookworm main', 'deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main non-free',
    'deb-src http://one.example/debian bookworm main', 'deb http://two.example/debian bookworm-backports main # trailing', '',
  ].join('\n');

  it('reads enabled binary entries of both formats, dropping comments, deb-src-only and disabled ones', () => {
    const a = parseDeb822(deb822);
    assert.deepEqual(a.map((s) => [s.uris[0], s.suites, s.components]), [
      ['http://mirror.example/debian', ['bookworm', 'bookworm-updates'], ['main', 'contrib']],
      ['http://security.example/debian-security', ['bookworm-security'], ['main']],
      ['http://inline.example/', ['bookworm'], ['main']],
    ]);
    assert.equal(a[0].options['signed-by'], '/usr/share/keyrings/debian-archive-keyring.gpg');
    const b = parseOneLine(oneLine);
    assert.deepEqual(b.map((s) => [s.uris[0], s.suites[0], s.components, s.options]), [
      ['http://one.example/debian', 'bookworm', ['main', 'non-free'], { 'signed-by': '/k.gpg' }],
      ['http://two.example/debian', 'bookworm-backports', ['main'], {}],
    ]);
  });

  it('writes deb-src lines for the machine\'s own suite; an inline key becomes a file the line names', () => {
    const all = [...parseDeb822(deb822), ...parseOneLine(oneLine)];
    const list = debSrcList(ownSuite(all, 'bookworm'), '/tmp/k');
    assert.deepEqual(list.text.trimEnd().split('\n'), [
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib',
      'deb-src [signed-by=/tmp/k/key-0.asc] http://inline.example/ bookworm main',
      'deb-src [signed-by=/k.gpg] http://one.example/debian bookworm main non-free',
    ]);
    assert.deepEqual(list.keys, [{ file: '/tmp/k/key-0.asc', content: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n' }]);
    assert.equal(ownSuite(all, 'stable').length, all.length, 'no entry of that suite: every entry');
    assert.equal(debSrcList([], '/tmp/k').text, '');
  });

  it('the codename and the Debian version\'s upstream part and commit', () => {
    assert.equal(codenameOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n'), 'bookworm');
    assert.equal(codenameOf('ID=x\n'), undefined);
    assert.deepEqual(debianUpstream('4.17.5+72-g01140da4e8-1'), { upstream: '4.17.5+72-g01140da4e8', commit: '01140da4e8' });
    assert.deepEqual(debianUpstream('1:4.20.4-1+deb13u1'), { upstream: '4.20.4' });
  });

  it('npm run xen:source: bad input is one line on stderr and exit 2', () => {
    const main = new URL('../../../lib/cxen/source/main.js', import.meta.url).pathname;
    const r = spawnSync(process.execPath, [main, '--git', '/nonexistent/xen.git', '--rev', 'c447b7308b'], { encoding: 'utf8', env: { ...process.env, VPCI_LAB_CACHE: tmp() } });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'xen:source: /nonexistent/xen.git: no such directory\n');
    const noApt = spawnSync(process.execPath, [main], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent', VPCI_LAB_CACHE: tmp() } });
    assert.deepEqual([noApt.status, noApt.stderr.split('\n').length], [2, 2], noApt.stderr);
    assert.match(noApt.stderr, /^xen:source: (apt-get not found: .*|no apt sources in .*)$/m, 'without apt: one line');
    const s = spawnSync(process.execPath, [main, '--rev', 'x'], { encoding: 'utf8' });
    assert.deepEqual([s.status, s.stderr], [2, 'xen:source: --git REPO and --rev COMMIT go together\n']);
  });
});
