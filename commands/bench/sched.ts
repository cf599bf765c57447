// Scheduling speed of the controlled mode: token handoffs per second between real worker threads.
//
//   node dist/commands/bench/sched.js [--threads 4] [--yields 25000] [--runs 5] [--chooser random|pct] [--spin auto|N]
//
// Each of the threads runs an actor that does nothing but yield_point() in a loop, so the time is all
// scheduling: decision, handoff to the chosen thread (its own wake word, woken only if it sleeps), its wake-up. A
// decision that keeps the same thread running is not a handoff; both rates are printed. Goals (issue 25): >= 500 k
// handoffs/s with 2 threads on 2 cores, 4 threads no slower than before.
//
// A warm-up trial of WARM_YIELDS yields per thread (VPCI_BENCH_WARM) comes first: workers start, modules load, and
// V8 optimises the scheduler's code. With 2,000, the first measured run was still much slower than the runs after it
// (V8 still at work), and --runs 1 measured mostly that.

import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { yield_point } from '../../lib/sched/mode.js';
import { SITE } from '../../lib/trace/sites.js';

/** Yields per thread of the warm-up trial. */
const WARM_YIELDS = Number(process.env.VPCI_BENCH_WARM ?? 20_000);

/** The benchmark's actor: yield `arg` times. */
export function spinner({ arg }: { cpu: number; arg: unknown }): number {
  const n = arg as number;
  for (let i = 0; i < n; i++) yield_point(SITE.actor);
  return n;
}

/** The options, built when main runs: a worker loads this module for spinner only, and needs no command line. */
async function spec() {
  const { int, choice, string, flag } = await import('../../cli/options.js');
  const { parseInt10 } = await import('../../cli/args.js');
  const { MAX_THREADS } = await import('../../lib/mem/machine.js');
  return {
    program: 'node dist/commands/bench/sched.js',
    usage: '[options]',
    description: `Controlled scheduling speed: token handoffs per second between real worker threads, each running an actor
that only yields. Prints each run and the median; a warm-up trial of ${WARM_YIELDS} yields per thread comes first.`,
    options: {
      threads: int('worker threads (simulated CPUs)', { default: 4, min: 1, max: MAX_THREADS }),
      yields: int('yield points per thread per run', { default: 25_000, min: 1, max: 10_000_000 }),
      runs: int('measured runs (the median is reported)', { default: 5, min: 1, max: 1000 }),
      chooser: choice('who runs next at each yield point', ['random', 'pct'] as const, 'random'),
      spin: string('polls of a waiting thread before it sleeps: auto, or a count', { default: 'auto', arg: 'auto|N', check: (v, f) => { if (v !== 'auto') parseInt10(v, f); } }),
      json: flag('print one JSON line instead of the text'),
    },
  };
}

async function main(argv: string[]): Promise<number> {
  const { parseCommand } = await import('../../cli/options.js');
  const args = parseCommand(await spec(), argv);
  if (!args) return 0;
  const { values } = args;
  const { threads, yields, runs, chooser } = values;
  const { createMachine } = await import('../../lib/mem/machine.js');
  const { createPool, runTrial } = await import('../../lib/run/index.js');
  const { schedHandoffs } = await import('../../lib/sched/index.js');
  const pool = createPool(threads);
  const actors = Array.from({ length: threads }, () => ({ module: import.meta.url, export: 'spinner', arg: yields }));
  const decisionsNeeded = threads * (yields + 1) + 1;
  const rates: Array<{ handoffsPerSec: number; decisionsPerSec: number; ms: number; handoffs: number; steps: number }> = [];
  try {
    const opts = { mode: 'controlled', chooser, budgetMs: 120_000, spin: values.spin === 'auto' ? 'auto' : Number(values.spin) } as const;
    const warm = createMachine({ threads, schedDecisions: threads * (WARM_YIELDS + 1) + 1 });
    await runTrial(pool, warm, actors.map((a) => ({ ...a, arg: WARM_YIELDS })), { ...opts, seed: 0, maxSteps: threads * (WARM_YIELDS + 1) + 1 });
    for (let r = 0; r < runs; r++) {
      const m = createMachine({ threads, schedDecisions: decisionsNeeded });
      const res = await runTrial(pool, m, actors, { ...opts, seed: r + 1, maxSteps: decisionsNeeded });
      if (res.outcome !== 'ok') throw new Error(`run ${r}: ${res.outcome}`);
      const workerMs = res.durationMs; // whole trial, dispatch and start barrier included
      const handoffs = schedHandoffs();
      rates.push({ handoffsPerSec: handoffs / (workerMs / 1000), decisionsPerSec: res.steps! / (workerMs / 1000), ms: workerMs, handoffs, steps: res.steps! });
    }
  } finally {
    await pool.close();
  }
  const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const h = median(rates.map((r) => r.handoffsPerSec)), d = median(rates.map((r) => r.decisionsPerSec));
  if (values.json) {
    process.stdout.write(JSON.stringify({ bench: 'sched', threads, cores: availableParallelism(), chooser, yields, runs: rates, medianHandoffsPerSec: h, medianDecisionsPerSec: d }) + '\n');
    return 0;
  }
  for (const [i, r] of rates.entries()) {
    process.stdout.write(`run ${i + 1}: ${r.handoffs} handoffs / ${r.steps} decisions in ${r.ms.toFixed(0)} ms = ${Math.round(r.handoffsPerSec)} handoffs/s\n`);
  }
  process.stdout.write(`controlled scheduling, ${threads} threads on ${availableParallelism()} cores, ${chooser} chooser: ` +
    `median ${Math.round(h)} handoffs/s (${Math.round(d)} decisions/s); goal >= 20000 handoffs/s\n`);
  return 0;
}

if (isMainThread && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { runMain } = await import('../../cli/exit.js');
  runMain('bench/sched', () => main(process.argv.slice(2)));
}
