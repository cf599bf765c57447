// One shard of a campaign: work item k (a run, a trial) belongs to shard k mod n (cli/shard.ts resolves which).

export interface Shard { index: number; count: number; source: string }

/** Does this shard own work item k? */
export const owns = (s: Shard | undefined, k: number): boolean => s === undefined || k % s.count === s.index;

export const shardLabel = (s: Shard | undefined): string => (s ? `shard ${s.index + 1}/${s.count} (${s.source})` : '');
