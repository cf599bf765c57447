// vpci-lab stress: race the locking strategies on real threads, free-running, and report outcomes and cost.

import os from 'node:os';
import cliProgress from 'cli-progress';
import { UsageError } from '../../cli/args.js';
import { parseCommand, string, int, flag, duration, outFile } from '../../cli/options.js';
import { shardOptions, shardOf, backendOptions } from '../../cli/common-options.js';
import { shardLabel } from '../../cli/shard.js';
import { Outputs, defaultOut, defaultOutText } from '../../cli/output.js';
import { exitCode } from '../../cli/exit.js';
import { onStop } from '../../cli/signals.js';
import { parseStrategies, displayPath, shellWord } from '../../lib/strategy/index.js';
import { resolveBackend, cReplayOptions } from '../../cli/backend.js';
import { createPool } from '../../lib/run/index.js';
import { Campaign, type StrategyTotals, type TrialLine } from '../../lib/explore/campaign.js';
import { MAX_DEVICES } from '../../lib/lab/workload.js';
import { summary, statsLine, stressJson } from '../../report/tables.js';
import { jsonlHeader } from '../../report/stress-jsonl.js';
import { renderReport } from '../../report/html/html.js';
import { stressReport, stressTone } from '../../report/html/from-stress.js';
import { junitXml, stressJunitCells } from '../../report/junit.js';
import path from 'node:path';

const SPEC = {
  usage: 'stress [options]',
  description: `Race every locking strategy on real worker threads (free-running) and report, per strategy, the outcome of each
trial, throughput relative to baseline, lock statistics and the first failure of each kind.`,
  options: {
    strategy: string('strategies, comma-separated, or all', { default: 'all', arg: 'NAME|all' }),
    ...backendOptions,
    vcpus: int('vCPUs per domain; Dom0\'s vCPU 0 runs the toolstack, the rest are guests', { default: 2, min: 1, max: 7 }),
    domus: int('DomUs besides Dom0', { default: 1, min: 0, max: 6 }),
    devices: int('PCI devices', { default: 3, min: 1, max: MAX_DEVICES }),
    duration: duration('time budget for the whole campaign, e.g. 30s, 2m (strategies take turns trial by trial)', { defaultText: '60s, none with --trials' }),
    trials: int('trials per strategy (with no --duration: no time limit)', { min: 1 }),
    cycles: int('device cycles (assign, deassign, remove, add) per trial (default: one per device)', { min: 1, max: 10_000 }),
    seed: int('campaign seed (trial k uses seed + 7919 k)', { default: 1, min: 0, max: 2 ** 31 - 1 }),
    jitter: flag('random delays at yield points, to widen race windows (seeded from --seed per trial)'),
    'jitter-rate': int('per mille of yield points that delay, 20 if not given (implies --jitter)', { min: 1, max: 1000 }),
    'jitter-max-us': int('longest delay in microseconds, 20 if not given (implies --jitter)', { min: 1, max: 100_000 }),
    msix: flag('devices have MSI-X and guests also touch their tables (late-2021 code never unlinks a removed table)'),
    'vpci-guest-support': flag('DomUs get vPCI (the v4/v5 series\' CONFIG_HAS_VPCI_GUEST_SUPPORT); Xen gives them none'),
    inject: string('fault injection probabilities', { default: 'iommu=0.1,map=0.01', arg: 'SPEC', check: (s) => { parseInject(s); } }),
    ...shardOptions,
    json: outFile('write the summary as JSON (first failures with their flight records)'),
    jsonl: outFile('a header line (seed, settings), then one JSON line per trial as it goes: merge reads it if the run is killed'),
    junit: outFile('JUnit XML: one test case per strategy, each outcome it must never have (crash, stale mapping, deadlock, hang) a failure with its first trial'),
    html: outFile('one self-contained HTML report: the matrix, lock wait/hold distributions, each first failure\'s timeline', { default: defaultOut('stress'), defaultText: defaultOutText('stress') }),
  },
};

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
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const v = args.values;
  let strategies;
  const cb = await resolveBackend(v);
  try { strategies = cb ? [cb.strategy] : await parseStrategies(v.strategy); } catch (e) { throw new UsageError((e as Error).message); }
  const shape = { vcpus: v.vcpus, domus: v.domus, devices: v.devices, msix: v.msix, vpciGuestSupport: v['vpci-guest-support'] };
  if (shape.vcpus * (1 + shape.domus) > 15) throw new UsageError(`--vcpus x (1 + --domus) must be at most 15 threads, got ${shape.vcpus * (1 + shape.domus)}`);
  if (shape.vcpus * (1 + shape.domus) < 2) throw new UsageError('a campaign needs at least 2 vCPUs (a toolstack and a guest)');
  const trials = v.trials ?? Number.MAX_SAFE_INTEGER;
  const totalMs = v.duration ?? (v.trials !== undefined ? Number.MAX_SAFE_INTEGER : 60_000);
  const inject = parseInject(v.inject);
  const seed = v.seed;
  const cyclesPerTrial = v.cycles ?? shape.devices;
  const shard = shardOf(v);
  const out = new Outputs();
  const jsonl = v.jsonl;

  const threads = shape.vcpus * (1 + shape.domus);
  const pool = createPool(threads);
  const loadStart = os.loadavg();   // other work on the machine skews throughput: the JSON says how much there was
  const jitterOn = v.jitter || v['jitter-rate'] !== undefined || v['jitter-max-us'] !== undefined;
  const jitter = jitterOn ? { permille: v['jitter-rate'] ?? 20, maxUs: v['jitter-max-us'] ?? 20 } : undefined;
  if (jsonl) out.write(jsonl, jsonlHeader({ seed, shape, inject, jitter: jitter ?? null, cyclesPerTrial, strategies: strategies.map((s) => s.name), ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}) }));
  const campaign = new Campaign(pool, { shape, seed, inject, jitter, cyclesPerTrial, trials, timeMs: totalMs, shard });
  const offStop = onStop((sig) => { process.stderr.write(`\n${sig === 'SIGTERM' ? 'terminated' : 'interrupted'}: finishing with what was measured\n`); campaign.interrupt(); });

  const tty = process.stderr.isTTY === true;
  const timed = totalMs !== Number.MAX_SAFE_INTEGER;
  const bar = tty ? new cliProgress.SingleBar({ format: '{bar} {percentage}% | {strategy} | {line}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
  const total = timed ? Math.round(totalMs / 1000) : trials * strategies.length;
  bar?.start(total, 0, { strategy: strategies[0].name, line: '' });
  const t0 = performance.now();
  let done = 0, lastLine = 0;
  const results: StrategyTotals[] = [];
  process.stdout.write(`vpci-lab stress: ${strategies.map((s) => s.name).join(', ')} | ${shape.domus + 1} domains x ${shape.vcpus} vCPUs, ${shape.devices} devices${shape.msix ? ' with MSI-X' : ''} | inject iommu=${inject.iommu / 1000} map=${inject.map / 1000}${jitter ? ` | jitter ${jitter.permille}‰ up to ${jitter.maxUs} µs` : ''}${shape.vpciGuestSupport ? ' | DomU vPCI on (v4/v5 series)' : ''} | seed ${seed}${shard ? ` | ${shardLabel(shard)}` : ''}\n`);
  try {
    const all = await campaign.run(strategies, (line: TrialLine, t: StrategyTotals) => {
      done++;
      if (jsonl) out.append(jsonl, JSON.stringify(line) + '\n');
      const now = performance.now();
      bar?.update(timed ? Math.min(total, Math.round((now - t0) / 1000)) : done, { strategy: line.strategy, line: statsLine(t).replace('[stress] ', '') });
      if (!tty && now - lastLine > 2000) { lastLine = now; process.stdout.write(statsLine(t) + '\n'); }
    });
    results.push(...all);
    if (!tty) for (const t of all) process.stdout.write(statsLine(t) + '\n');
  } finally {
    bar?.stop();
    offStop();
    await pool.close().catch(() => {});
  }
  // A patch file is named by its path on the replay lines; a C build by the options that rebuild it.
  const refs = Object.fromEntries(strategies.flatMap((st) => (cb ? [[st.name, `${shellWord(v.strategy)}${cReplayOptions(v)}`]] : st.file ? [[st.name, shellWord(displayPath(st.file))]] : [])));
  const result = stressJson(results, { interrupted: campaign.wasInterrupted, seed, shape, inject, ...(v.cycles !== undefined ? { cycles: v.cycles } : {}), jitter: jitter ?? null, load: { start: loadStart, end: os.loadavg() }, ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}) }, refs);
  process.stdout.write('\n' + summary(result) + '\n');
  if (v.html && out.write(v.html, () => renderReport(stressReport(result)))) process.stdout.write(`\nreport: ${v.html}\n`);
  if (v.json) out.write(v.json, () => JSON.stringify(result) + '\n');
  if (v.junit) out.write(v.junit, () => junitXml('stress', stressJunitCells(result, (o) => stressTone(o) === 'forbidden')));
  return exitCode({ interrupted: campaign.wasInterrupted, writeFailures: out.failed.length });
}
