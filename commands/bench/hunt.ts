// Speed of vpci-lab hunt: generated programs per minute and controlled runs per second, and the time a hunt
// under upstream takes, unaided, to its first stale-pdev use-after-free (a pending slot's pdev freed by a Dom0
// remove on another vCPU), per seed, with the median.
//
// (It lives beside the hunt, not in bench/, because bench/ sits below stress/ in the layers.)
//
//   node dist/commands/bench/hunt.js [--seeds 5] [--budget 180s] [--throughput 30s] [--domu off] [--json FILE]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCommand, int, duration, choice, outFile } from '../../cli/options.js';
import { Outputs } from '../../cli/output.js';
import { runMain, exitCode } from '../../cli/exit.js';
import { createPool } from '../../lib/run/index.js';
import { hunt, type HuntFinding } from '../../lib/explore/hunt/hunt.js';
import { readKnown } from '../../lib/explore/hunt/dedup.js';
import type { DomuPolicy } from '../../lib/explore/hunt/program.js';

const KNOWN = new URL('../../../examples/hunt/known.json', import.meta.url);

/** The stale-pdev shape: a use-after-free in the pending step of a vCPU whose device another vCPU removed. */
export function isStalePdev(f: HuntFinding): boolean {
  if (f.outcome !== 'use-after-free' || f.where !== 'vpci_process_pending') return false;
  const removers = f.program.vcpus.filter((v) => v.actions.some((a) => a.op === 'remove')).map((v) => v.name);
  return removers.length > 0 && f.vcpu !== '' && !removers.includes(f.vcpu) && f.group.sites.includes('pci_remove_device:before-free');
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };

const SPEC = {
  program: 'node dist/commands/bench/hunt.js',
  usage: '[options]',
  description: `Speed of vpci-lab hunt: programs per minute and runs per second under pcidevs, then, per seed, the time an
unaided hunt under upstream takes to its first stale-pdev use-after-free, and their median.`,
  options: {
    seeds: int('upstream hunts, seeds 1..N', { default: 5, min: 1, max: 1000 }),
    budget: duration('budget of each seed\'s hunt', { default: 180_000, defaultText: '180s' }),
    throughput: duration('budget of the pcidevs throughput hunt', { default: 30_000, defaultText: '30s' }),
    domu: choice('DomU vCPUs in the generated programs', ['off', 'owned', 'detach'] as const, 'off'),
    json: outFile('also write { bench, cores, domu, throughput, stalePdev: { seeds, medianMs } }'),
  },
};

async function main(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const { values } = args;
  const domu = values.domu as DomuPolicy;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-bench-hunt-'));
  const pool = createPool(4);
  const known = readKnown(KNOWN.pathname);
  const base = { seed: 1, runsPerProgram: 20, pctDepth: 3, known, domu, command: 'bench/hunt' };

  // Throughput: pcidevs finds nothing but the known defer_map group, so the time goes into generating and running.
  const t = await hunt(pool, { ...base, strategy: 'pcidevs', budgetMs: values.throughput!, out: path.join(out, 'tp') });
  const sec = t.elapsedMs / 1000;
  const throughput = { strategy: 'pcidevs', seconds: +sec.toFixed(1), programs: t.programs, runs: t.runs, programsPerMinute: Math.round(t.programs / sec * 60), runsPerSecond: Math.round(t.runs / sec), newFindings: t.findings.length, known: t.known };
  console.log(`throughput (pcidevs, ${sec.toFixed(0)} s, ${os.availableParallelism()} cores): ${throughput.programsPerMinute} programs/min, ${throughput.runsPerSecond} runs/s, ${t.findings.length} new findings`);

  const seeds: Array<{ seed: number; found: boolean; atMs: number; vcpus?: number; actions?: number; programs: number; file?: string }> = [];
  for (let seed = 1; seed <= values.seeds; seed++) {
    const s = await hunt(pool, { ...base, strategy: 'upstream', seed, budgetMs: values.budget!, out: path.join(out, `s${seed}`) }, { shouldStop: (st) => st.findings.some(isStalePdev) });
    const f = s.findings.find(isStalePdev);
    seeds.push({ seed, found: !!f, atMs: f ? Math.round(f.atMs) : Math.round(s.elapsedMs), vcpus: f?.vcpus, actions: f?.actions, programs: s.programs, file: f?.file });
    console.log(`upstream seed ${seed}: ${f ? `stale-pdev at ${(f.atMs / 1000).toFixed(1)} s (program ${f.programIndex}), shrunk to ${f.vcpus} vCPUs / ${f.actions} actions` : `not found in ${(s.elapsedMs / 1000).toFixed(0)} s`}`);
  }
  const found = seeds.filter((s) => s.found);
  const med = found.length === seeds.length ? median(seeds.map((s) => s.atMs)) : NaN;
  console.log(`median time to first stale-pdev over ${seeds.length} seeds: ${Number.isNaN(med) ? `not all found (${found.length}/${seeds.length})` : `${(med / 1000).toFixed(1)} s`}`);
  await pool.close();
  const files = new Outputs();
  if (values.json) files.write(values.json, JSON.stringify({ bench: 'hunt', cores: os.availableParallelism(), domu, throughput, stalePdev: { seeds, medianMs: med } }, null, 2) + '\n');
  return exitCode({ writeFailures: files.failed.length });
}

runMain('bench/hunt', () => main(process.argv.slice(2)));
