// Option groups several commands share, declared once (stress/options.ts builds parsing and --help from them).

import { int, choice, string, strings } from './options.js';
import { resolveShard, type Shard } from './shard.js';

/** The controlled scheduler's knobs: repro, explore, verify. */
export const controlledOptions = (runs: number) => ({
  runs: int('controlled runs', { default: runs, min: 1, max: 1_000_000 }),
  chooser: choice('who runs next at each yield point', ['pct', 'random'] as const, 'pct'),
  'pct-depth': int('PCT bug depth: D-1 priority change points', { default: 3, min: 1, max: 16, arg: 'D' }),
  seed: int('seed of the first run', { default: 1, min: 0, max: 2 ** 31 - 1 }),
});

/** --shard and --shard-count; the shard itself comes from shardOf (flag or job-engine environment). */
export const shardOptions = {
  shard: string('run only part i of n of the work (1-based); also read from JOB_COMPLETION_INDEX, CI_NODE_INDEX/CI_NODE_TOTAL, SLURM_ARRAY_TASK_ID/COUNT', { arg: 'i/n' }),
  'shard-count': int('total shards when the index comes from JOB_COMPLETION_INDEX (or set VPCI_SHARD_COUNT)', { min: 1, max: 100_000 }),
};

export const shardOf = (v: { shard: string | undefined; 'shard-count': number | undefined }): Shard | undefined => resolveShard(v.shard, v['shard-count']);

/** Which Xen runs: the TypeScript model, or Xen's own C compiled from a tree (lib/cxen). */
export const backendOptions = {
  backend: choice('ts: the TypeScript model; c: Xen\'s vPCI C compiled from --xen-src (with --patch), judged as --strategy', ['ts', 'c'] as const, 'ts'),
  'xen-src': string('Xen tree the C backend compiles (default $VPCI_XEN_SRC, else Debian\'s from npm run xen:source)', { arg: 'DIR' }),
  patch: strings('a unified diff applied (patch -p1, no fuzz) to a copy of the tree before compiling, in the order given', { arg: 'FILE' }),
};
