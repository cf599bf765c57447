// vpci-lab bench find: runs and wall time until each known bug is first seen, per method (stress/find-bench.ts).

import { parseCommand, string, int, outFile } from '../../cli/options.js';
import { UsageError, nameList } from '../../cli/args.js';
import { Outputs } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';
import { parseStrategies } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { loadScenario } from '../../lib/scenario/scenario.js';
import { benchFind, formatFind, KNOWN_BUGS, METHODS, type Method } from '../../lib/explore/find.js';

const SPEC = {
  usage: 'bench find [options]',
  description: `Time to bug: for every known bug (crash paths 1-3 under baseline, stale-pdev under upstream, the historical Xen
bugs of examples/patches/history under their pre-fix patches) and every method
(pct and random controlled runs, verify, free-running trials of the scenario's machine), the runs and wall time
until the bug is first seen (a crash): median and p90 over the seeds whose search found it, and how many did.`,
  options: {
    seeds: int('seeds per controlled method', { default: 20, min: 1, max: 10_000 }),
    'max-runs': int('a controlled search gives up after this many runs', { default: 1000, min: 1, max: 1_000_000 }),
    'free-ms': int('free-running budget per search, ms', { default: 10_000, min: 100, max: 3_600_000, arg: 'MS' }),
    'free-seeds': int('free-running searches per bug', { default: 3, min: 1, max: 1000 }),
    'verify-repeats': int('verify searches per bug (deterministic: repeats time it)', { default: 3, min: 1, max: 100 }),
    methods: string(`comma list of ${METHODS.join(', ')}`, { default: METHODS.join(','), arg: 'LIST' }),
    bugs: string(`comma list of scenario names among ${KNOWN_BUGS.map((b) => b.scenario).join(', ')}`, { arg: 'LIST' }),
    json: outFile('write { cores, load, options, cells: [{ bug, scenario, strategy, method, found, runs, ms, searches }] }'),
  },
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  const methods = nameList(v.methods, '--methods') as Method[];
  for (const m of methods) if (!(METHODS as readonly string[]).includes(m)) throw new UsageError(`--methods: unknown method '${m}' (known: ${METHODS.join(', ')})`);
  const wanted = v.bugs ? nameList(v.bugs, '--bugs') : KNOWN_BUGS.map((b) => b.scenario);
  for (const w of wanted) if (!KNOWN_BUGS.some((b) => b.scenario === w)) throw new UsageError(`--bugs: '${w}' is not a known bug (known: ${KNOWN_BUGS.map((b) => b.scenario).join(', ')})`);
  await parseStrategies([...new Set(KNOWN_BUGS.map((b) => b.files?.strategy ?? b.strategy))].join(','));
  const bugs = [];
  for (const b of KNOWN_BUGS.filter((x) => wanted.includes(x.scenario))) bugs.push({ b, ...(await loadScenario(b.files?.scenario ?? b.scenario).then(({ url, scenario }) => ({ url, s: scenario }))) });
  const pool = createPool(Math.max(...bugs.map((x) => Object.keys(x.s.actors).length)));
  let report;
  try {
    report = await benchFind(pool, bugs, methods, {
      seeds: v.seeds, maxRuns: v['max-runs'], freeMs: v['free-ms'], freeSeeds: v['free-seeds'], verifyRepeats: v['verify-repeats'],
      log: (s) => process.stderr.write(s + '\n'),
    });
  } finally {
    await pool.close().catch(() => {});
  }
  process.stdout.write(formatFind(report) + '\n');
  const out = new Outputs();
  if (v.json && out.write(v.json, JSON.stringify(report, null, 2) + '\n')) process.stderr.write(`wrote ${v.json}\n`);
  return exitCode({ writeFailures: out.failed.length });
}
