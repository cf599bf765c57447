// vpci-lab bench locks [--quick] [--json FILE] [--threads LIST]

import { MAX_THREADS } from '../../lib/mem/machine.js';
import { UsageError } from '../../cli/args.js';
import { parseCommand, flag, string, outFile } from '../../cli/options.js';
import { Outputs } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';

const SPEC = {
  usage: 'bench locks [--quick] [--json FILE] [--threads LIST]',
  description: `Lock benchmarks: the lab's Xen-faithful locks on real worker_threads next to the same ticket lock in C11 atomics
(bench/ref/ticket.c, compiled with the system cc into a temporary directory and run in the same invocation;
skipped with a note when there is no cc).

Modes: uncontended pairs (spin_lock+spin_unlock, read_lock+read_unlock, write_lock+write_unlock; tinybench; raw,
instrumented and the bare atomics floor), contended spinlock at each thread count on both sides (per-acquisition
ns; rounds of >= 200 ms, counted only when all threads overlapped for >= 90% of the round, dropped rounds
reported; C with the lab's own wait policy and, for information, with sched_yield), read-mostly rwlock 90/10 at
4 threads. Prints tables and the goal ratios of issue 25, each from figures of the same run: the raw pair <= 1.5x
the atomics floor, the instrumented pair <= 3x the raw, contended <= 3x C at 2, 4 and 8 threads.`,
  positionals: { min: 0, max: 1, what: 'bench: one benchmark at a time (try: locks, verify, find)' },
  options: {
    quick: flag('shorter rounds, fewer repeats (a few minutes on 2 cores)'),
    json: outFile('also write { cores, results: [{ lock, mode, threads, nsPerOp, opsPerSec }], reference: [...], goals }'),
    threads: string(`thread counts of the contended mode, comma separated (each 1..${MAX_THREADS})`, { default: '1,2,4,8', arg: 'LIST', check: (s) => { threadList(s); } }),
  },
};

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'verify') return (await import('./verify.js')).run(argv.slice(1));
  if (argv[0] === 'find') return (await import('./find.js')).run(argv.slice(1));
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError("bench: which benchmark? (try: vpci-lab bench locks, vpci-lab bench verify, vpci-lab bench find, or --help)");
  if (positionals[0] !== 'locks') throw new UsageError(`bench: unknown benchmark '${positionals.join(' ')}' (try: locks, verify, find)`);
  const threads = threadList(values.threads);

  const { benchLocks, formatReport } = await import('./locks.js');
  const report = await benchLocks({ quick: values.quick === true, threads, log: (s) => process.stderr.write(s + '\n') });
  process.stdout.write(formatReport(report) + '\n');
  const out = new Outputs();
  if (values.json && out.write(values.json, JSON.stringify(report, null, 2) + '\n')) process.stderr.write(`wrote ${values.json}\n`);
  return exitCode({ writeFailures: out.failed.length });
}

function threadList(v: string): number[] {
  if (!/^\d+(,\d+)*$/.test(v)) throw new UsageError(`--threads wants a comma-separated list like 2,4,8, got '${String(v)}'`);
  const xs = v.split(',').map(Number);
  for (const n of xs) if (n < 1 || n > MAX_THREADS) throw new UsageError(`--threads: each count must be between 1 and ${MAX_THREADS}, got ${n}`);
  return [...new Set(xs)];
}
