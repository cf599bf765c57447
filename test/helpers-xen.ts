// Shared by the C backend's tests: skipping with the reason printed (mocha's pending list shows no reason), the
// Xen trees this machine has (Debian's from `npm run xen:source`, a HEAD export), and a small fake Xen tree for
// tests that need only a tree's shape.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cachedXenTrees } from '../lib/cxen/source/tree.js';

/** Skip the running test and say why in the test output. */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  console.log(`      (skipped: ${reason})`);
  ctx.skip();
  throw new Error('unreachable');
}

/** The reason the C compiler cannot be used here, or undefined when it can. */
export function noCompiler(): string | undefined {
  try { execFileSync(process.env.CC || 'cc', ['--version'], { stdio: 'ignore' }); return undefined; } catch { return `no C compiler ('${process.env.CC || 'cc'}' not found)`; }
}

/** A Xen tree in the cache: Debian's ('debian') or a git export whose commit starts with `commit`. */
export function cachedTree(which: 'debian' | { commit: string }): string | undefined {
  return cachedXenTrees().find((t) => (which === 'debian' ? t.mark.origin === 'debian' : t.mark.commit?.startsWith(which.commit)))?.dir;
}

/** Where a test finds a tree it needs, or the line that says how to get one. */
export const TREE_HINT = {
  debian: 'Debian\'s Xen source not fetched (npm run xen:source)',
  head: 'no Xen tree at c447b7308b (npm run xen:source -- --git XEN_GIT_REPO --rev c447b7308b)',
};

/** A Xen 4.17 tree (VPCI_XEN_417, else Debian's in the cache) and a compiler, or the test skips saying which is missing. */
export function xen417OrSkip(ctx: Mocha.Context): string {
  const why = noCompiler();
  if (why) skipBecause(ctx, why);
  const tree = [process.env.VPCI_XEN_417, cachedTree('debian')].find((d) => d && existsSync(`${d}/xen/drivers/vpci/vpci.c`));
  if (!tree) skipBecause(ctx, `no Xen 4.17 tree: ${TREE_HINT.debian}, or set VPCI_XEN_417`);
  return tree!;
}

/** A directory shaped like a Xen tree (the files checkXenTree and identify read), with the given contents. */
export function fakeXenTree(files: Record<string, string> = {}, version = ['4', '17', '.5']): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpci-fake-xen-'));
  const all: Record<string, string> = {
    'xen/Makefile': `export XEN_VERSION       = ${version[0]}\nexport XEN_SUBVERSION    = ${version[1]}\nexport XEN_EXTRAVERSION ?= ${version[2]}$(XEN_VENDORVERSION)\n`,
    'xen/drivers/vpci/vpci.c': 'int vpci_add_handlers(void);\n',
    'xen/drivers/vpci/header.c': Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n',
    'xen/common/rangeset.c': 'int rangeset;\n',
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** A Xen HEAD tree (c447b7308b): $VPCI_XEN_HEAD, else a git export in the cache; undefined when neither is here. */
export function headTree(): string | undefined {
  const env = process.env.VPCI_XEN_HEAD;
  if (env && existsSync(join(env, 'xen/drivers/vpci/cap.c'))) return env;
  return cachedTree({ commit: 'c447b7308b' });
}
