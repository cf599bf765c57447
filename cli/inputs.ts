// Inputs that several runs' results are merged from (merge, verify --merge): each file once, no two identical
// results, shards of one campaign each once and never mixed with an unsharded result. Any of these would count
// the same runs twice, so each is refused (exit 2) before anything is merged.

import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { UsageError } from './args.js';

/** Each file's text, refusing a file given twice (by real path) and two files with the same content. */
export function readDistinct(files: string[], cmd: string): Array<{ file: string; text: string }> {
  const byPath = new Map<string, string>(), byHash = new Map<string, string>();
  return files.map((file) => {
    let real = file;
    try { real = fs.realpathSync(file); } catch { /* reading says why */ }
    if (byPath.has(real)) throw new UsageError(`${cmd}: ${file} is given twice: its runs would count twice`);
    byPath.set(real, file);
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new UsageError(`${cmd}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
    const h = createHash('sha256').update(text).digest('hex');
    const twin = byHash.get(h);
    if (twin !== undefined && text.trim()) throw new UsageError(`${cmd}: ${file} and ${twin} are the same result: its runs would count twice`);
    byHash.set(h, file);
    return { file, text };
  });
}

type ShardOf = { index: number; count: number } | undefined;

/** Shards of one campaign: the same count, no index twice, no unsharded input among them; missing ones only with partial. */
export function checkShards(cmd: string, what: string, shards: Array<{ file: string; shard: ShardOf }>, partial: boolean): string | undefined {
  if (shards.every((s) => !s.shard)) return undefined;
  const plain = shards.find((s) => !s.shard);
  if (plain) throw new UsageError(`${cmd}: ${plain.file} is an unsharded ${what} among shards: its runs would count twice`);
  const n = shards[0].shard!.count;
  const odd = shards.find((s) => s.shard!.count !== n);
  if (odd) throw new UsageError(`${cmd}: ${odd.file} is shard ${odd.shard!.index + 1}/${odd.shard!.count}, the others are of ${n}`);
  const seen = new Map<number, string>();
  for (const s of shards) {
    const twin = seen.get(s.shard!.index);
    if (twin !== undefined) throw new UsageError(`${cmd}: shard ${s.shard!.index + 1}/${n} is given twice (${twin} and ${s.file})`);
    seen.set(s.shard!.index, s.file);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i)).map((i) => `shard ${i + 1}/${n} missing`);
  if (missing.length === 0) return undefined;
  if (!partial) throw new UsageError(`${cmd}: ${missing.join(', ')} (--partial merges anyway)`);
  return missing.join(', ');
}

