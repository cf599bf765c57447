// vpci-lab stress: race the locking strategies on real threads, free-running, and report outcomes and cost.

import fs from 'node:fs';
import cliProgress from 'cli-progress';
import { parse, intOpt, durationOpt, UsageError } from '../args.js';
import { parseStrategies } from '../../lib/strategy/index.js';
import { createPool } from '../../lib/run/index.js';
import { Campaign, type StrategyTotals, type TrialLine } from '../campaign.js';
import { MAX_DEVICES } from '../machine.js';
import { summary, statsLine, stressJson } from '../report.js';

const HELP = `usage: vpci-lab stress [options]

Race every locking strategy on real worker threads (free-running) and report, per strategy, the outcome of each
trial, throughput relative to baseline, lock statistics and the first failure of each kind.

  --strategy NAME|all   strategies, comma-separated (default all)
  --vcpus N             vCPUs per domain (default 2); Dom0's vCPU 0 runs the toolstack, the rest are guests
  --domus N             DomUs besides Dom0 (default 1)
  --devices N           PCI devices (default 3, at most ${MAX_DEVICES})
  --duration T          time budget for the whole campaign, e.g. 30s, 2m (default 60s; split across strategies)
  --trials N            trials per strategy (with no --duration: no time limit)
  --cycles N            device cycles (assign, deassign, remove, add) per trial (default: one per device)
  --seed N              campaign seed (default 1)
  --jitter              random delays at yield points, to widen race windows
  --inject SPEC         fault injection, e.g. iommu=0.1,map=0.01 (probabilities; default iommu=0.1,map=0.01)
  --json FILE           write the summary as JSON
  --jsonl FILE          append one JSON line per trial, as it goes
  --default             the embedded default campaign (npm start)
  -h, --help            this text`;

export function parseInject(spec: string): { iommu: number; map: number } {
  const out = { iommu: 0, map: 0 };
  if (spec === '' || spec === 'none') return out;
  for (const part of spec.split(',')) {
    const m = /^(iommu|map)=(\d*\.?\d+)$/.exec(part.trim());
    if (!m) throw new UsageError(`--inject wants iommu=P,map=P with probabilities in [0,1], got '${part}'`);
    const p = Number(m[2]);
    if (!(p >= 0 && p <= 1)) throw new UsageError(`--inject ${m[1]} must be a probability in [0,1], got ${m[2]}`);
    out[m[1] as 'iommu' | 'map'] = Math.round(p * 1000);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, {
    strategy: { type: 'string' }, vcpus: { type: 'string' }, domus: { type: 'string' }, devices: { type: 'string' },
    duration: { type: 'string' }, trials: { type: 'string' }, cycles: { type: 'string' }, seed: { type: 'string' },
    jitter: { type: 'boolean' }, inject: { type: 'string' }, json: { type: 'string' }, jsonl: { type: 'string' },
    default: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { process.stdout.write(HELP + '\n'); return 0; }
  let strategies;
  try { strategies = await parseStrategies((v.strategy as string | undefined) ?? 'all'); } catch (e) { throw new UsageError((e as Error).message); }
  const shape = { vcpus: intOpt(v.vcpus, 'vcpus', 2, 1, 7), domus: intOpt(v.domus, 'domus', 1, 0, 6), devices: intOpt(v.devices, 'devices', 3, 1, MAX_DEVICES) };
  if (shape.vcpus * (1 + shape.domus) > 15) throw new UsageError(`--vcpus x (1 + --domus) must be at most 15 threads, got ${shape.vcpus * (1 + shape.domus)}`);
  if (shape.vcpus * (1 + shape.domus) < 2) throw new UsageError('a campaign needs at least 2 vCPUs (a toolstack and a guest)');
  const trialsGiven = v.trials !== undefined;
  const trials = intOpt(v.trials, 'trials', Number.MAX_SAFE_INTEGER, 1);
  const totalMs = durationOpt(v.duration, 'duration', trialsGiven ? Number.MAX_SAFE_INTEGER : 60_000);
  const inject = parseInject((v.inject as string | undefined) ?? 'iommu=0.1,map=0.01');
  const seed = intOpt(v.seed, 'seed', 1, 0, 2 ** 31 - 1);
  const cyclesPerTrial = intOpt(v.cycles, 'cycles', shape.devices, 1, 10_000);
  const jsonl = v.jsonl as string | undefined;
  if (jsonl) fs.writeFileSync(jsonl, '');

  const threads = shape.vcpus * (1 + shape.domus);
  const pool = createPool(threads);
  const campaign = new Campaign(pool, { shape, seed, inject, jitter: !!v.jitter, cyclesPerTrial, trials, timeMs: totalMs / strategies.length });
  const onSigint = (): void => { process.stderr.write('\ninterrupted: finishing with what was measured\n'); campaign.interrupt(); };
  process.on('SIGINT', onSigint);

  const tty = process.stderr.isTTY === true;
  const timed = totalMs !== Number.MAX_SAFE_INTEGER;
  const bar = tty ? new cliProgress.SingleBar({ format: '{bar} {percentage}% | {strategy} | {line}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  const total = timed ? Math.round(totalMs / 1000) : trials * strategies.length;
  bar?.start(total, 0, { strategy: strategies[0].name, line: '' });
  const t0 = performance.now();
  let done = 0, lastLine = 0;
  const results: StrategyTotals[] = [];
  process.stdout.write(`vpci-lab stress: ${strategies.map((s) => s.name).join(', ')} | ${shape.domus + 1} domains x ${shape.vcpus} vCPUs, ${shape.devices} devices | inject iommu=${inject.iommu / 1000} map=${inject.map / 1000}${v.jitter ? ' | jitter' : ''} | seed ${seed}\n`);
  try {
    for (const s of strategies) {
      if (campaign.wasInterrupted) break;
      const totals = await campaign.runStrategy(s, (line: TrialLine, t: StrategyTotals) => {
        done++;
        if (jsonl) fs.appendFileSync(jsonl, JSON.stringify(line) + '\n');
        const now = performance.now();
        bar?.update(timed ? Math.min(total, Math.round((now - t0) / 1000)) : done, { strategy: s.name, line: statsLine(t).replace('[stress] ', '') });
        if (!tty && now - lastLine > 2000) { lastLine = now; process.stdout.write(statsLine(t) + '\n'); }
      });
      results.push(totals);
      if (!tty) process.stdout.write(statsLine(totals) + '\n');
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
    await pool.close().catch(() => {});
  }
  process.stdout.write('\n' + summary(results) + '\n');
  if (v.json) fs.writeFileSync(v.json as string, JSON.stringify(stressJson(results, { interrupted: campaign.wasInterrupted, seed, shape, inject }), null, 2) + '\n');
  return campaign.wasInterrupted ? 130 : 0;
}
