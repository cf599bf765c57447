// Compare a verify JSON (vpci-lab verify ... --json FILE) with the reference matrix, cell by cell: verdict, runs,
// runs per bound, sleep cuts, forbidden runs, each outcome's run count and the terminal-state digests must be
// identical. A speed-up of the scheduler or the runner must not change what the search explores.
//
//   node scripts/verify-compare.mjs [--subset] NEW.json [REFERENCE.json]   (default reference: results/verify.json)
//
// Exit 0 when every cell of NEW matches its reference cell and NEW covers every reference cell (with --subset:
// only the cells NEW has are compared), 1 otherwise.

import fs from 'node:fs';

const args = process.argv.slice(2);
const subset = args[0] === '--subset';
const [file, refFile = new URL('../results/verify.json', import.meta.url).pathname] = subset ? args.slice(1) : args;
if (!file) { process.stderr.write('usage: node scripts/verify-compare.mjs [--subset] NEW.json [REFERENCE.json]\n'); process.exit(2); }
const read = (f) => {
  try { return JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { process.stderr.write(`verify-compare: cannot read ${f}: ${e.message.split('\n')[0]}\n`); process.exit(2); }
};
const key = (c) => `${c.scenario} / ${c.strategy}`;
const ref = new Map(read(refFile).cells.map((c) => [key(c), c]));
const got = new Map(read(file).cells.map((c) => [key(c), c]));

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
