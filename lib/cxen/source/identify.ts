// What a directory holds: whether it is a Xen tree, which Xen (xen/Makefile's version, Debian's version, the git
// commit), and which generation of the vPCI code the lab's machine must be shaped for.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, basename } from 'node:path';
import { XenSourceError } from './errors.js';
import { readJson } from './cache.js';

/** Files every Xen tree the lab can race has (late 2021 to HEAD). */
export const REQUIRED = ['xen/Makefile', 'xen/drivers/vpci/vpci.c', 'xen/drivers/vpci/header.c', 'xen/common/rangeset.c'];

/**
 * 'l21': late-2021 code to 4.18 (vpci_add_handlers, pcidevs_lock, no d->pci_lock), as in Debian's 4.17.5;
 * 'head': 4.19 on (d->pci_lock and vpci_assign_device, f20dde9259); 'between': d->pci_lock without the assign hooks
 * (the two commits of one series in Feb 2024).
 */
export type XenGeneration = 'l21' | 'head' | 'between';

/** What fetchDebianXen or exportGitXen leaves beside a tree it put in the cache. */
export interface SourceMark { origin: 'debian' | 'git'; debianVersion?: string; suite?: string; commit?: string; archiveSha256?: string }
export const MARK = '.vpci-lab-source.json';

const isFile = (p: string): boolean => { try { return statSync(p).isFile(); } catch { return false; } };

/** Throws the one-line error for a directory that is not a Xen tree (with a hint when it is Xen's xen/ itself). */
export function checkXenTree(dir: string, label = dir): void {
  if (!existsSync(dir)) throw new XenSourceError('not-xen', `${label}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new XenSourceError('not-xen', `${label}: not a directory`);
  const missing = REQUIRED.find((f) => !isFile(join(dir, f)));
  if (!missing) return;
  const hint = isFile(join(dir, 'drivers/vpci/vpci.c')) && basename(dir) === 'xen' ? `; did you mean ${dirname(dir)}?` : '';
  throw new XenSourceError('not-xen', `${label}: not a Xen tree (no ${missing})${hint}`);
}

/** "4.17.5", "4.23-unstable": XEN_VERSION.XEN_SUBVERSION plus XEN_EXTRAVERSION without the vendor suffix. */
export function makefileVersion(dir: string): string {
  const mk = readFileSync(join(dir, 'xen/Makefile'), 'utf8');
  const get = (v: string): string | undefined => new RegExp(`^export\\s+${v}\\s*\\??=\\s*(.*)$`, 'm').exec(mk)?.[1].trim();
  const [major, minor] = [get('XEN_VERSION'), get('XEN_SUBVERSION')];
  if (!major || !minor) return 'unknown';
  const extra = (get('XEN_EXTRAVERSION') ?? '').replace(/\$\(XEN_VENDORVERSION\)/, '');
  return `${major}.${minor}${extra}`;
}

export function generationOf(dir: string): XenGeneration {
  const vpci = readFileSync(join(dir, 'xen/drivers/vpci/vpci.c'), 'utf8');
  if (/\bvpci_assign_device\b/.test(vpci)) return 'head';
  const sched = join(dir, 'xen/include/xen/sched.h');
  const pciLock = isFile(sched) && /rwlock_t\s+pci_lock\s*;/.test(readFileSync(sched, 'utf8'));
  return pciLock ? 'between' : 'l21';
}

/** The commit of a git checkout whose top is `dir` (not of some repository above it), and whether xen/ is dirty. */
export function gitCommit(dir: string): { commit: string; dirty: boolean } | undefined {
  if (!existsSync(join(dir, '.git'))) return undefined;
  try {
    const git = (...a: string[]): string => execFileSync('git', ['-C', dir, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'xen').length > 0;
    return { commit, dirty };
  } catch {
    return undefined;
  }
}

export interface XenIdentity {
  version: string;            // from xen/Makefile
  debianVersion?: string;     // Debian's source package version, for a tree fetched by `npm run xen:source`
  commit?: string;            // the checkout's HEAD, or the commit a cached export was taken from
  dirty?: boolean;            // a checkout with uncommitted changes under xen/ (the file hashes say which content ran)
  origin: 'tree' | 'debian' | 'git';
  generation: XenGeneration;
}

export function identify(dir: string): XenIdentity {
  const mark = readJson<SourceMark>(join(dir, MARK));
  const git = gitCommit(dir);
  const id: XenIdentity = { version: makefileVersion(dir), origin: mark?.origin ?? 'tree', generation: generationOf(dir) };
  if (mark?.debianVersion) id.debianVersion = mark.debianVersion;
  const commit = git?.commit ?? mark?.commit;
  if (commit) id.commit = commit;
  if (git?.dirty) id.dirty = true;
  return id;
}
