// verify --jobs N: the search spread over N child processes (each its own pool of worker threads). Each child stays
// for the whole search and takes jobs from a queue (commands/verify/serve.ts), one cell per job: a scenario's cells
// as one job left a child running three quarters of the matrix's three largest scenarios while the other idled
// (149 s wall where the cells add up to 123 s per child). One cell alone is split into shards (more shards than
// jobs, so a large subtree does not leave the others idle) and merged. A child reports each job through
// its JSON file, exactly as --shard / --merge do. Each child is told its share of the cores (VPCI_CORES), so that
// the controlled scheduler's polling (lib/sched/spin.ts) counts the sibling processes.

import { spawn } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeCells } from './verify-merge.js';
import { processCpus } from '../sched/place.js';
import type { VerifyResult } from './verify.js';

/** The child's entry (commands/verify/serve.ts): referred to by path, never imported (it is a layer above). */
const SERVE = fileURLToPath(new URL('../../commands/verify/serve.js', import.meta.url));

export interface Job { scenario: string; strategy: string; shard?: string }

type CellJson = Parameters<typeof mergeCells>[0][number];

/**
 * Run every job in at most `jobs` children with the shared options `args`; the results, merged per cell.
 * `poolThreads`: the most threads any job needs. Each child starts its pool at that size: a pool grown on the first
 * job that needs more (crash-path-4's three CPUs, a quarter through the matrix) threw away its warm workers, and V8
 * compiled the whole model again in each new one.
 */
export async function runJobs(list: Job[], args: string[], jobs: number, interrupt: { stop: boolean }, poolThreads = 0): Promise<VerifyResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-verify-'));
  const cells = new Map<string, CellJson[]>();
  const lanes = Math.min(jobs, list.length), share = Math.max(1, Math.floor(os.availableParallelism() / lanes));
  const env = { ...process.env, VPCI_CORES: String(share) };
  // Each child its own cores when they divide evenly (VPCI_CPUS, lib/sched/place.ts): its wakes stay on its cores.
  const cpus = processCpus();
  const envOf = (k: number): NodeJS.ProcessEnv => cpus.length >= lanes * share ? { ...env, VPCI_CPUS: cpus.slice(k * share, (k + 1) * share).join(',') } : env;
  let next = 0;
  const lane = async (k: number): Promise<void> => {
    let child: Child | undefined;
    try {
      while (next < list.length && !interrupt.stop) {
        const i = next++, j = list[i];
        const file = path.join(dir, `${i}.json`);
        const argv = ['verify', j.scenario, '--strategy', j.strategy, ...args, '--json', file, '--events', '0', '--html', path.join(dir, `${i}.html`), '--report', path.join(dir, `${i}-report.html`)];
        if (j.shard) argv.push('--shard', j.shard);
        let code: number | null = null;
        for (let attempt = 0; attempt < 2 && !fs.existsSync(file) && !interrupt.stop; attempt++) {
          if (!child?.alive()) child = startChild(envOf(k), poolThreads);
          code = await child.job(argv.slice(1));
        }
        if (!fs.existsSync(file) && interrupt.stop) continue;
        if (!fs.existsSync(file)) throw new Error(`verify job ${j.scenario}/${j.strategy}${j.shard ? ` shard ${j.shard}` : ''} wrote no result (exit ${code})`);
        for (const c of (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: CellJson[] }).cells) {
          const k = `${j.scenario}\u0000${c.strategy}`;           // a job is one scenario: its cells differ by strategy
          cells.set(k, [...(cells.get(k) ?? []), c]);
        }
      }
    } finally {
      await child?.end();
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, (_, k) => lane(k)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const order = [...new Set(list.map((j) => `${j.scenario}\u0000${j.strategy}`))];
  return [...cells.entries()].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([, cs]) => mergeCells(cs));
}

interface Child {
  alive(): boolean;
  /** Run one job (verify's argv); its exit code, or null when the child died on it. */
  job(argv: string[]): Promise<number | null>;
  /** No more jobs: let it exit. */
  end(): Promise<void>;
}

/**
 * A child that runs job after job (commands/verify/serve.ts): jobs go one JSON line each on its stdin, exit codes
 * come back one line each on fd 3; its stderr is ours.
 */
function startChild(env: NodeJS.ProcessEnv, poolThreads: number): Child {
  const c = spawn(process.execPath, [SERVE, String(poolThreads)], { stdio: ['pipe', 'ignore', 'inherit', 'pipe'], env });
  let dead = false, waiting: ((code: number | null) => void) | undefined;
  const exited = new Promise<void>((resolve) => c.on('exit', () => { dead = true; waiting?.(null); waiting = undefined; resolve(); }));
  c.stdin!.on('error', () => { /* it died: exit says so */ });
  readline.createInterface({ input: c.stdio[3] as NodeJS.ReadableStream }).on('line', (l) => { const w = waiting; waiting = undefined; w?.(Number(l)); });
  return {
    alive: () => !dead,
    job: (argv) => new Promise<number | null>((resolve) => {
      if (dead) { resolve(null); return; }
      waiting = resolve;
      c.stdin!.write(JSON.stringify(argv) + '\n');
    }),
    end: async () => { c.stdin!.end(); await exited; },
  };
}
