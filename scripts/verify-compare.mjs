// Compare a verify JSON (vpci-lab verify ... --json FILE) with the reference matrix, cell by cell: verdict, runs,
// runs per bound, sleep cuts, forbidden runs, each outcome's run count and the terminal-state digests must be
// identical. A speed-up of the scheduler or the runner must not change what the search explores.
//
//   node scripts/verify-compare.mjs [--subset] NEW.json [REFERENCE.json]   (default reference: results/verify.json)
//
// Exit 0 when every cell of NEW matches its reference cell and NEW covers every reference cell (with --subset:
// only the cells NEW has are compared), 1 otherwise.

import fs from 'node:fs';
import { scriptArgs, usageError } from './args.mjs';

const { values, positionals } = scriptArgs('verify-compare', 'node scripts/verify-compare.mjs [--subset] NEW.json [REFERENCE.json]',
  { options: { subset: { type: 'boolean' } }, args: [1, 2] });
const subset = values.subset === true;
const [file, refFile = new URL('../results/verify.json', import.meta.url).pathname] = positionals;
/** The cells of a verify JSON; anything else is bad input. */
const read = (f) => {
  let doc;
  try { doc = JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { usageError('verify-compare', `cannot read ${f}: ${e.message.split('\n')[0]}`); }
  if (!Array.isArray(doc?.cells)) usageError('verify-compare', `${f} is not the JSON of vpci-lab verify (no cells)`);
  return doc.cells;
};
const key = (c) => `${c.scenario} / ${c.strategy}`;
const ref = new Map(read(refFile).map((c) => [key(c), c]));
const got = new Map(read(file).map((c) => [key(c), c]));

/** What must not change, per cell. */
const shape = (c) => ({
  verdict: c.verdict ?? (c.forbidden > 0 || c.firstFailure ? 'refuted' : c.complete ? 'verified' : 'incomplete'),
  runs: c.runs, runsByBound: c.runsByBound, sleepCut: c.sleepCut ?? null, forbidden: c.forbidden, complete: c.complete,
  outcomes: Object.fromEntries(Object.entries(c.outcomes).map(([o, s]) => [o, s.runs]).sort()),
  digests: c.digests.length, digestHash: c.digests.join(','),
});

let bad = 0, same = 0;
for (const [k, r] of ref) {
  const g = got.get(k);
  if (!g) { if (!subset) { process.stdout.write(`missing  ${k}\n`); bad++; } continue; }
  const a = shape(r), b = shape(g);
  const diff = Object.keys(a).filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
  if (diff.length === 0) { same++; continue; }
  bad++;
  process.stdout.write(`differs  ${k}: ${diff.map((f) => f === 'digestHash' ? 'digests' : `${f} ${JSON.stringify(a[f])} -> ${JSON.stringify(b[f])}`).join('; ')}\n`);
}
for (const k of got.keys()) if (!ref.has(k)) process.stdout.write(`extra    ${k} (no reference cell)\n`);
const runs = (m) => [...m.values()].reduce((n, c) => n + c.runs, 0);
process.stdout.write(`${same} of ${subset ? got.size : ref.size} cells identical (${runs(got)} runs, reference ${runs(ref)})${bad ? `; ${bad} differ or are missing` : ''}\n`);
process.exit(bad ? 1 : 0);
