// vpci-lab bench locks [--quick] [--json FILE] [--threads LIST]

import { writeFile } from 'node:fs/promises';
import { MAX_THREADS } from '../../lib/mem/machine.js';
import { UsageError, parse } from '../args.js';

const HELP = `usage: vpci-lab bench locks [--quick] [--json FILE] [--threads LIST]

Lock benchmarks: the lab's Xen-faithful locks on real worker_threads next to the same ticket lock in C11 atomics
(bench/ref/ticket.c, compiled with the system cc into a temporary directory and run in the same invocation;
skipped with a note when there is no cc).

Modes: uncontended pairs (spin_lock+spin_unlock, read_lock+read_unlock, write_lock+write_unlock; tinybench, raw and
instrumented), contended spinlock at each thread count (per-acquisition ns, median of several rounds), read-mostly
rwlock 90/10 at 4 threads. Prints a table and the goal ratios (uncontended <= 2.5x C, contended-2 <= 4x C,
8 threads <= 3x our 2-thread figure).

  --quick          shorter rounds, fewer repeats (under a minute on 2 cores)
  --json FILE      also write { cores, results: [{ lock, mode, threads, nsPerOp, opsPerSec }], reference: [...], goals }
  --threads LIST   thread counts of the contended mode, comma separated (default 2,4,8; each 1..${MAX_THREADS})
  -h, --help       this text`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    quick: { type: 'boolean' },
    json: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, true);
  if (values.help) { process.stdout.write(HELP + '\n'); return 0; }
  if (positionals.length === 0) throw new UsageError("bench: which benchmark? (try: vpci-lab bench locks, or vpci-lab bench --help)");
  if (positionals.length > 1 || positionals[0] !== 'locks') throw new UsageError(`bench: unknown benchmark '${positionals.join(' ')}' (try: locks)`);
  const threads = threadList(values.threads);
  if (values.json !== undefined && (typeof values.json !== 'string' || values.json === '')) throw new UsageError('--json wants a file name');

  const { benchLocks, formatReport } = await import('../../bench/locks.js');
  const report = await benchLocks({ quick: values.quick === true, threads, log: (s) => process.stderr.write(s + '\n') });
  process.stdout.write(formatReport(report) + '\n');
  if (typeof values.json === 'string') {
    await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
    process.stderr.write(`wrote ${values.json}\n`);
  }
  return 0;
}

function threadList(v: string | boolean | undefined): number[] {
  if (v === undefined) return [2, 4, 8];
  if (typeof v !== 'string' || !/^\d+(,\d+)*$/.test(v)) throw new UsageError(`--threads wants a comma-separated list like 2,4,8, got '${String(v)}'`);
  const xs = v.split(',').map(Number);
  for (const n of xs) if (n < 1 || n > MAX_THREADS) throw new UsageError(`--threads: each count must be between 1 and ${MAX_THREADS}, got ${n}`);
  return [...new Set(xs)];
}
