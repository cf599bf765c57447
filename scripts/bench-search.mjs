#!/usr/bin/env node
// The model checker's bookkeeping alone (lib/verify: Search.next/record, DPOR, sleep sets), replayed over the
// traces of a real verify search: no threads, no machine. Record a search's traces with lib/verify/dump.ts
// (VPCI_SEARCH_DUMP=FILE vpci-lab verify ...), then
//
//   node scripts/bench-search.mjs FILE [DIST] [--rounds N]      (DIST: a build's dist/, default this tree's)
//
// replays every search of FILE N times (default 5) and prints the CPU microseconds per run of each round (a
// figure, never a test: time it against another build on the same dump, alternating, on a quiet machine). Each
// replay must ask for exactly the prefixes the recorded search asked for, with the same sleep cuts, preemptions and
// shard ownership, so a faster search that explores differently fails here (exit 1) before it is timed.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { scriptArgs, usageError } from './args.mjs';

const { values, positionals } = scriptArgs('bench-search', 'node scripts/bench-search.mjs DUMP [DIST] [--rounds N]',
  { options: { rounds: { type: 'string', default: '5' } }, args: [1, 2] });
if (!/^[1-9]\d*$/.test(values.rounds)) usageError('bench-search', `--rounds wants a whole number of 1 or more, got '${values.rounds}'`);
const rounds = Number(values.rounds);
const [file, dist = new URL('../dist', import.meta.url).pathname] = positionals;
if (!fs.existsSync(file) || !fs.existsSync(path.join(dist, 'lib/verify/search.js'))) usageError('bench-search', `no ${fs.existsSync(file) ? `${dist}/lib/verify/search.js` : file}`);
const { Search } = await import(pathToFileURL(path.join(path.resolve(dist), 'lib/verify/search.js')).href);

/** The searches of the dump: options, then per run the prefix asked for, the trace, and what record() reported. */
const searches = new Map();
for await (const line of readline.createInterface({ input: fs.createReadStream(file) })) {
  const x = JSON.parse(line);
  if (x.new !== undefined) { searches.set(x.new, { o: { ...x.o, bound: x.o.bound ?? Infinity }, runs: [], end: false }); continue; }
  const s = searches.get(x.id);
  if (x.p !== undefined) { if (x.p === null) s.end = true; else s.runs.push({ p: x.p }); }
  else if (x.tr !== undefined) {
    s.runs.at(-1).tr = x.tr; s.runs.at(-1).ended = x.ended;
  } else Object.assign(s.runs.at(-1), { cut: x.cut, pre: x.pre, foreign: x.foreign });
}

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
function replay(check) {
  let runs = 0;
  for (const [id, s] of searches) {
    const search = new Search(s.o);
    for (const r of s.runs) {
      const p = search.next();
      if (check && (!p || !same([...p.decisions], r.p.d) || !same(p.faults, r.p.f))) fail(`search ${id} run ${runs}: prefix differs`);
      if (!r.tr) break; // the recorded search stopped here (--max-runs)
      search.record(r.tr, (t) => ((r.ended >>> t) & 1) !== 0);
      if (check && (search.sleepCut !== r.cut || search.preemptions !== r.pre || search.foreign !== r.foreign)) fail(`search ${id} run ${runs}: record() differs`);
      runs++;
    }
    if (check && s.end && search.next() !== null) fail(`search ${id}: does not end where the recorded one did`);
  }
  return runs;
}
function fail(m) { process.stderr.write(`bench-search: ${m}\n`); process.exit(1); }

const runs = replay(true);
const us = [];
for (let k = 0; k < rounds; k++) {
  const c0 = process.cpuUsage();
  replay(false);
  const c = process.cpuUsage(c0);
  us.push((c.user + c.system) / runs);
}
process.stdout.write(`${runs} runs in ${searches.size} searches, identical; CPU us/run per round: ${us.map((u) => u.toFixed(2)).join(' ')} (min ${Math.min(...us).toFixed(2)})\n`);
