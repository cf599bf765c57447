// `--backend c`: from a Xen tree (and patches) to a strategy the engines run like any other. The tree is compiled
// (build.ts), and the strategy is lib/cxen/backend.js with the build named in its URL, so that every worker of every
// machine installs the same build. Expectations: the C build is judged with the expectations a scenario states for
// the TypeScript strategy it stands for (`as`, default baseline: unpatched Xen).

import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { loadStrategy, type Strategy } from '../strategy/index.js';
import { buildAddon, BuildError, type Built } from './build.js';

export interface CBackendOptions {
  /** A Xen tree; default $VPCI_XEN_SRC. */
  xenSrc?: string;
  /** Unified diffs applied (-p1) to a copy of the compiled files, in order. */
  patches?: readonly string[];
  release?: boolean;
}

export interface CBackend {
  strategy: Strategy;
  /** What ran, for reports: version, tree, compiled files' hashes, patches. */
  provenance: { version: string; tree: string; files: Record<string, string>; patches: Array<{ file: string; sha256: string }>; build: string };
}

/** Bad input for the C backend (no compiler, not a Xen tree, a patch that does not apply, a compiler error): one line. */
export class CBackendError extends Error { constructor(m: string) { super(m); this.name = 'CBackendError'; } }

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** XEN_VERSION.XEN_SUBVERSION + EXTRAVERSION from xen/Makefile. */
export function xenVersion(dir: string): string {
  let mk: string;
  try { mk = fs.readFileSync(path.join(dir, 'xen/Makefile'), 'utf8'); } catch { throw new CBackendError(`${dir} is not a Xen tree (no xen/Makefile)`); }
  const get = (v: string): string => new RegExp(`^export\\s+${v}\\s*\\??=\\s*(\\S*)`, 'm').exec(mk)?.[1] ?? '';
  return `${get('XEN_VERSION')}.${get('XEN_SUBVERSION')}${get('XEN_EXTRAVERSION').replace(/\$\(.*\)/, '')}`;
}

/** A copy of the recipe's files with the patches applied (patch -p1); a patch that does not apply is one line. */
function patchedCopy(src: string, patches: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-lab-xen-'));
  // What the C backend compiles and what a patch may also touch (Xen's own vPCI test harness).
  for (const rel of ['xen/Makefile', 'xen/drivers', 'xen/common', 'xen/include', 'xen/arch/x86/include', 'tools/tests/vpci']) {
    if (!fs.existsSync(path.join(src, rel))) continue;
    fs.mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    fs.cpSync(path.join(src, rel), path.join(dir, rel), { recursive: true });
  }
  for (const p of patches) {
    try {
      execFileSync('patch', ['-p1', '--batch', '--forward', '-d', dir, '-i', path.resolve(p)], { stdio: 'pipe' });
    } catch (e) {
      const out = String((e as { stdout?: Buffer }).stdout ?? '') + String((e as { stderr?: Buffer }).stderr ?? '');
      const why = out.split('\n').find((l) => /FAILED|can't find file|No such file|malformed|Only garbage/i.test(l)) ?? out.split('\n')[0];
      fs.rmSync(dir, { recursive: true, force: true });
      throw new CBackendError(`patch ${p} does not apply to ${src}: ${why.trim()}`);
    }
  }
  return dir;
}

/** Compile the tree (with patches) and load its strategy in this thread. Throws CBackendError with one line. */
export async function cBackend(o: CBackendOptions): Promise<CBackend> {
  const tree = o.xenSrc ?? process.env.VPCI_XEN_SRC;
  if (!tree) throw new CBackendError('the C backend needs a Xen tree: --xen-src DIR (or VPCI_XEN_SRC)');
  if (!fs.existsSync(path.join(tree, 'xen/drivers/vpci/vpci.c'))) throw new CBackendError(`${tree} is not a Xen tree (no xen/drivers/vpci/vpci.c)`);
  if (fs.existsSync(path.join(tree, 'xen/drivers/vpci/cap.c'))) throw new CBackendError(`${tree} is a Xen with cap.c (4.21 and later): the C backend compiles 4.17-shaped trees so far`);
  const version = xenVersion(tree);
  for (const p of o.patches ?? []) if (!fs.existsSync(p)) throw new CBackendError(`patch ${p}: no such file`);
  const dir = o.patches?.length ? patchedCopy(tree, o.patches) : tree;
  let built: Built;
  try { built = await buildAddon({ xenDir: dir, release: o.release }); } catch (e) {
    if (e instanceof BuildError) throw new CBackendError(e.message);
    throw e;
  } finally { if (dir !== tree) fs.rmSync(dir, { recursive: true, force: true }); }
  const patches = (o.patches ?? []).map((file) => ({ file, sha256: sha(fs.readFileSync(file)) }));
  const suffix = patches.map((p) => `+${path.basename(p.file).replace(/\.(patch|diff)$/, '')}`).join('');
  const name = `c-${version}${suffix}`.replace(/[^\w.+-]/g, '_').replace(/\+/g, '-');
  const backend = fileURLToPath(new URL('./backend.js', import.meta.url));
  const spec = `file://${backend}?addon=${encodeURIComponent(built.path)}&name=${encodeURIComponent(name)}`;
  const strategy = await loadStrategy(spec);
  return { strategy, provenance: { version, tree: path.resolve(tree), files: built.files, patches, build: built.hash } };
}

/** One line for the terminal: which Xen ran. */
export function provenanceLine(p: CBackend['provenance']): string {
  const files = Object.entries(p.files).filter(([f]) => f.endsWith('.c')).map(([f, h]) => `${path.basename(f)} ${h.slice(0, 10)}`).join(', ');
  return `C backend: Xen ${p.version} from ${p.tree}${p.patches.length ? ` + ${p.patches.map((x) => path.basename(x.file)).join(' + ')}` : ''} (build ${p.build}; ${files})`;
}
