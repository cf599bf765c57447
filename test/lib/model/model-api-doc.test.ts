// docs/model-api.md is generated from the function table: it must be what lib/harness/api-doc.ts renders now
// (`npm run docs:api` rewrites it), and name every function of the table.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { modelApiMarkdown } from '../../../lib/harness/api-doc.js';
import { MODEL_FN_NAMES } from '../../../lib/xen/fn.js';

describe('docs/model-api.md', () => {
  const page = fs.readFileSync(fileURLToPath(new URL('../../../../docs/model-api.md', import.meta.url)), 'utf8');
  it('is current (npm run docs:api)', () => {
    assert.equal(page, modelApiMarkdown(), 'docs/model-api.md is stale: run npm run docs:api');
  });
  it('has a row for every function of the table, with its generations and arguments', () => {
    for (const n of MODEL_FN_NAMES) assert.match(page, new RegExp(`^\\| \`${n}\\(`, 'm'), n);
    assert.match(page, /^\| `vpci_read\(sbdf, reg, size\)` \| l21, head \| l21 drivers\/vpci\/vpci\.c:311<br>head drivers\/vpci\/vpci\.c:475 \|/m);
    assert.doesNotMatch(page, /: \?/, 'an argument without a meaning');
  });
});
