// `npm run xen:source`: Debian's source package of xen for this machine's suite, fetched through apt without
// touching the system's apt configuration (a temporary deb-src list, lists directory and cache, passed with -o),
// unpacked into the cache; or a commit of a Xen git repository exported there. Both leave a mark file that says
// where the tree came from, which prepareXenTree and provenance read.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XenSourceError } from './errors.js';
import { cacheDir, publish, tempName } from './cache.js';
import { parseDeb822, parseOneLine, debSrcList, debianUpstream, ownSuite, codenameOf, type AptSource } from './apt-sources.js';
import { checkXenTree, MARK, type SourceMark } from './identify.js';
import { cachedXenTrees } from './tree.js';
import { fileSha } from './hash.js';

const APT_ETC = '/etc/apt';

/** Every enabled binary source in the machine's apt configuration (sources.list and sources.list.d). */
export function machineSources(etc = APT_ETC): AptSource[] {
  const out: AptSource[] = [];
  const read = (p: string): string => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };
  out.push(...parseOneLine(read(join(etc, 'sources.list'))));
  let parts: string[] = [];
  try { parts = readdirSync(join(etc, 'sources.list.d')).sort(); } catch { /* none */ }
  for (const f of parts) {
    if (f.endsWith('.list')) out.push(...parseOneLine(read(join(etc, 'sources.list.d', f))));
    else if (f.endsWith('.sources')) out.push(...parseDeb822(read(join(etc, 'sources.list.d', f))));
  }
  return out;
}

function aptGet(args: string[], cwd: string, what: string): void {
  const r = spawnSync('apt-get', args, { cwd, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new XenSourceError('apt', 'apt-get not found: Debian\'s Xen source needs apt (or pass --xen-src DIR, a Xen tree)');
  if (r.status !== 0) {
    const line = `${r.stderr}\n${r.stdout}`.split('\n').map((l) => l.trim()).find((l) => /^(E:|W:|Err)/.test(l)) ?? `exit ${r.status}`;
    throw new XenSourceError('apt', `apt-get ${what} failed: ${line}`);
  }
}

/** Fields of the .dsc that apt-get source downloaded: the version and the .orig tarball's name. */
function readDsc(dir: string): { version: string; orig: string } {
  const dsc = readdirSync(dir).find((f) => f.endsWith('.dsc'));
  if (!dsc) throw new XenSourceError('apt', 'apt-get source xen downloaded no .dsc');
  const text = readFileSync(join(dir, dsc), 'utf8');
  const version = /^Version:\s*(\S+)/m.exec(text)?.[1];
  const orig = readdirSync(dir).find((f) => /\.orig\.tar\.(xz|gz|bz2)$/.test(f));
  if (!version || !orig) throw new XenSourceError('apt', `${dsc}: no Version or no .orig tarball`);
  return { version, orig };
}

export interface FetchResult { dir: string; mark: SourceMark; cached: boolean }

/** Debian's xen source for the machine's suites, unpacked into <cache>/xen/<upstream version>/. */
export function fetchDebianXen(o: { refresh?: boolean; cacheDir?: string; etc?: string; suite?: string } = {}): FetchResult {
  const have = cachedXenTrees(o.cacheDir).find((t) => t.mark.origin === 'debian');
  if (have && !o.refresh) return { ...have, cached: true };
  let osRelease = '';
  try { osRelease = readFileSync('/etc/os-release', 'utf8'); } catch { /* no codename: every suite */ }
  const suite = o.suite ?? codenameOf(osRelease);
  const sources = ownSuite(machineSources(o.etc), suite);
  if (!sources.length) throw new XenSourceError('apt', `no apt sources in ${o.etc ?? APT_ETC}: cannot fetch Debian's Xen source (pass --xen-src DIR, a Xen tree)`);
  const tmp = mkdtempSync(join(tmpdir(), 'vpci-lab-apt-'));
  try {
    const list = debSrcList(sources, tmp);
    for (const k of list.keys) writeFileSync(k.file, k.content);
    writeFileSync(join(tmp, 'sources.list'), list.text);
    for (const d of ['parts', 'lists/partial', 'cache/archives/partial', 'dl']) mkdirSync(join(tmp, d), { recursive: true });
    const opts = [
      '-o', `Dir::Etc::SourceList=${join(tmp, 'sources.list')}`, '-o', `Dir::Etc::SourceParts=${join(tmp, 'parts')}`,
      '-o', `Dir::State::Lists=${join(tmp, 'lists')}`, '-o', `Dir::Cache=${join(tmp, 'cache')}`, '-q',
      // root's downloads would otherwise drop to the _apt user, who may not enter this private directory
      ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []),
    ];
    aptGet([...opts, 'update'], tmp, 'update');
    aptGet([...opts, 'source', '--download-only', 'xen'], join(tmp, 'dl'), 'source xen');
    const { version, orig } = readDsc(join(tmp, 'dl'));
    const { upstream, commit } = debianUpstream(version);
    const dest = join(cacheDir('xen', o.cacheDir), upstream);
    if (existsSync(join(dest, MARK))) rmSync(dest, { recursive: true, force: true });
    const unpack = tempName(dest);
    mkdirSync(unpack, { recursive: true });
    execFileSync('tar', ['-xf', join(tmp, 'dl', orig), '-C', unpack, '--strip-components=1'], { stdio: 'ignore' });
    checkXenTree(unpack, `${orig} (unpacked)`);
    const mark: SourceMark = { origin: 'debian', debianVersion: version, ...(suite ? { suite } : {}), archiveSha256: fileSha(join(tmp, 'dl', orig)), ...(commit ? { commit } : {}) };
    writeFileSync(join(unpack, MARK), JSON.stringify(mark, null, 1));
    publish(unpack, dest);
    return { dir: dest, mark, cached: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A commit of a Xen git repository (a checkout or a bare mirror) exported into <cache>/xen/git-<commit>/. */
export function exportGitXen(repo: string, rev: string, o: { cacheDir?: string } = {}): FetchResult {
  const git = (...a: string[]): string => {
    try { return execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(); }
    catch (e) { throw new XenSourceError('git', `git ${a[0]} in ${repo} failed: ${String((e as { stderr?: string }).stderr ?? e).split('\n')[0]}`); }
  };
  if (!existsSync(repo)) throw new XenSourceError('git', `${repo}: no such directory`);
  let commit: string;
  try { commit = git('rev-parse', '--verify', '--quiet', `${rev}^{commit}`); } catch { throw new XenSourceError('git', `${rev}: no such commit in ${repo}`); }
  const dest = join(cacheDir('xen', o.cacheDir), `git-${commit.slice(0, 12)}`);
  if (existsSync(join(dest, MARK))) return { dir: dest, mark: { origin: 'git', commit }, cached: true };
  const tmp = tempName(dest);
  mkdirSync(tmp, { recursive: true });
  try {
    const paths = ['xen', ...(git('ls-tree', '--name-only', commit, 'tools/tests/vpci') ? ['tools/tests/vpci'] : [])];
    const tar = spawnSync('git', ['-C', repo, 'archive', '--format=tar', commit, ...paths], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) throw new XenSourceError('git', `git archive ${commit.slice(0, 12)} failed: ${String(tar.stderr).split('\n')[0]}`);
    execFileSync('tar', ['-x', '-C', tmp], { input: tar.stdout });
    checkXenTree(tmp, `${repo} at ${commit.slice(0, 12)}`);
    writeFileSync(join(tmp, MARK), JSON.stringify({ origin: 'git', commit }, null, 1));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  publish(tmp, dest);
  return { dir: dest, mark: { origin: 'git', commit }, cached: false };
}
