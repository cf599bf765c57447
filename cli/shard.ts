// Which part of a campaign this process runs: --shard i/n (1-based, like Jest and Playwright), or the index a job
// engine hands out. Work item k (a run, a trial) belongs to shard k mod n, so shards are disjoint, together cover
// everything, and each is deterministic.

import { UsageError, parseInt10 } from './args.js';

import type { Shard } from '../lib/explore/shard.js';

export { owns, shardLabel, type Shard } from '../lib/explore/shard.js';

const SHARD_RE = /^(\d+)\/(\d+)$/;

function make(index: number, count: number, source: string): Shard {
  if (count < 1) throw new UsageError(`${source}: the shard count must be at least 1, got ${count}`);
  if (index < 0 || index >= count) throw new UsageError(`${source}: shard index out of range (0-based ${index} of ${count})`);
  return { index, count, source };
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : parseInt10(v, name, 0);
}

/**
 * --shard wins; then a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, 0-based, with the total from --shard-count
 * or VPCI_SHARD_COUNT), GitLab parallel (CI_NODE_INDEX 1-based, CI_NODE_TOTAL), a Slurm array
 * (SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT). Undefined: the whole campaign.
 */
export function resolveShard(flag: string | undefined, countFlag: number | undefined, env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  if (flag !== undefined) {
    const m = SHARD_RE.exec(flag);
    if (!m) throw new UsageError(`--shard wants i/n like 2/4 (1 <= i <= n), got '${flag}'`);
    const i = Number(m[1]), n = Number(m[2]);
    if (n < 1 || i < 1 || i > n) throw new UsageError(`--shard ${flag}: i must be between 1 and n`);
    return make(i - 1, n, '--shard');
  }
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  if (k8s !== undefined) {
    const n = countFlag ?? envInt(env, 'VPCI_SHARD_COUNT');
    if (n === undefined) throw new UsageError('JOB_COMPLETION_INDEX is set but not the shard count: pass --shard-count N (the Job\'s completions) or set VPCI_SHARD_COUNT');
    return make(k8s, n, 'JOB_COMPLETION_INDEX');
  }
  const gl = envInt(env, 'CI_NODE_INDEX');
  if (gl !== undefined) {
    const n = envInt(env, 'CI_NODE_TOTAL');
    if (n === undefined) throw new UsageError('CI_NODE_INDEX is set without CI_NODE_TOTAL');
    return make(gl - 1, n, 'CI_NODE_INDEX');
  }
  const slurm = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (slurm !== undefined) {
    const n = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (n === undefined) throw new UsageError('SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT');
    return make(slurm - (envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0), n, 'SLURM_ARRAY_TASK_ID');
  }
  if (countFlag !== undefined) throw new UsageError('--shard-count needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); otherwise use --shard i/n');
  return undefined;
}
