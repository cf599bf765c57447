// Every .patch shipped under examples/patches applies, without fuzz or offset, to the Xen tree its Tree: line names
// (skipped with the reason where that tree is not on this machine: Debian's 4.17.5 comes from `npm run xen:source`,
// CI fetches it; HEAD from a Xen git repository). Also: a patch for the wrong tree fails on a named hunk, with GNU
// patch and with git apply.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareXenTree, XenSourceError } from '../../../lib/cxen/source/index.js';
import { cachedXenTrees } from '../../../lib/cxen/source/tree.js';
import { skipBecause, TREE_HINT } from '../../helpers-xen.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const dir = join(root, 'examples/patches');
const patches = (sub = ''): string[] => readdirSync(join(dir, sub), { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? patches(join(sub, e.name)) : e.name.endsWith('.patch') ? [join(sub, e.name)] : []));

/** The cached tree a Tree: line names ("c447b7308b" or "debian 4.17.5+72-g01140da4e8"), or why there is none. */
function treeFor(tree: string): { dir: string } | { missing: string } {
  const trees = cachedXenTrees();
  const deb = /^debian (\S+)$/.exec(tree);
  const t = deb ? trees.find((x) => x.mark.debianVersion?.startsWith(deb[1])) : trees.find((x) => x.mark.commit?.startsWith(tree));
  if (t) return { dir: t.dir };
  return { missing: deb ? `${TREE_HINT.debian}, or not ${deb[1]}` : TREE_HINT.head.replace('c447b7308b', tree) };
}

describe('shipped Xen patches', function () {
  this.timeout(120_000);
  const all = patches();

  it('there are patches, and each names its tree', () => {
    assert.ok(all.includes('upstream-drain.patch') && all.includes('pcidevs.patch'), all.join(' '));
    assert.ok(all.filter((p) => p.startsWith('history/')).length >= 6);
    for (const p of all) assert.match(readFileSync(join(dir, p), 'utf8'), /^Tree: (c447b7308b|debian 4\.17\.5\+72-g01140da4e8)$/m, p);
  });

  for (const p of all) {
    it(`${p} applies cleanly to the tree it names`, function () {
      const tree = /^Tree: (.*)$/m.exec(readFileSync(join(dir, p), 'utf8'))![1];
      const t = treeFor(tree);
      if ('missing' in t) skipBecause(this, t.missing);
      const x = prepareXenTree({ src: t.dir, patches: [join(dir, p)] });
      assert.equal(x.patches.length, 1);
      assert.equal(x.patches[0].notes, undefined, `applied with offset or fuzz: ${x.patches[0].notes?.join('; ')}`);
      assert.ok(x.patches[0].files.every((f) => f in x.files), 'the touched files are in the provenance');
    });
  }

  for (const tool of ['patch', 'git']) {
    it(`HEAD's drain patch on 4.17.5 fails on a named hunk (${tool})`, function () {
      const t = treeFor('debian 4.17.5');
      if ('missing' in t) skipBecause(this, t.missing);
      const saved = process.env.VPCI_LAB_PATCH_TOOL;
      process.env.VPCI_LAB_PATCH_TOOL = tool;
      try {
        assert.throws(() => prepareXenTree({ src: t.dir, patches: [join(dir, 'upstream-drain.patch')] }), (e: unknown) => {
          assert.ok(e instanceof XenSourceError && e.kind === 'patch');
          assert.match(e.message, /^upstream-drain\.patch: hunk #\d+ \(@@ -\d+,\d+ \+\d+,\d+ @@\) of xen\/\S+ does not apply$/);
          return true;
        });
      } finally {
        if (saved === undefined) delete process.env.VPCI_LAB_PATCH_TOOL; else process.env.VPCI_LAB_PATCH_TOOL = saved;
      }
    });
  }
});
