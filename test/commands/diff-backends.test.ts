// diff-backends' row comparison (commands/diff-backends/compare.ts): the same outcomes at the same sites, or the same
// once Xen's renames between the compared trees are applied, and then saying which; any other difference stays one.

import assert from 'node:assert/strict';
import { compareOutcomes, RENAMES } from '../../commands/diff-backends/compare.js';

describe('diff-backends: comparing a row', () => {
  it('the same outcomes and sites are the same, with no rename', () => {
    assert.deepEqual(compareOutcomes(['ok', 'use-after-free@vpci_read'], ['ok', 'use-after-free@vpci_read']), { same: true, renamed: [] });
  });

  it('the late-2021 walk\'s site against 4.17\'s name for the same function is the same race, and says the rename', () => {
    const r = compareOutcomes(['ok', 'use-after-free@pci_get_pdev_by_domain'], ['ok', 'use-after-free@pci_get_pdev']);
    assert.equal(r.same, true);
    assert.deepEqual(r.renamed, [RENAMES[0].why]);
    assert.match(r.renamed[0], /a37f9ea7a6/);
  });

  it('a rename does not hide any other difference, nor turn one outcome into another', () => {
    assert.equal(compareOutcomes(['ok'], ['ok', 'use-after-free@pci_get_pdev']).same, false);
    assert.equal(compareOutcomes(['use-after-free@pci_get_pdev_by_domain'], ['null-deref@pci_get_pdev']).same, false);
    assert.equal(compareOutcomes(['ok', 'use-after-free@pci_get_pdev_by_domain', 'use-after-free@vpci_write'], ['ok', 'use-after-free@pci_get_pdev']).same, false);
    assert.equal(compareOutcomes(['ok', 'use-after-free@pci_get_pdev'], ['ok', 'use-after-free@pci_get_pdev_by_domain']).same, false, 'only the older name maps to the newer');
  });
});
