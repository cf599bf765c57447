import { UsageError } from '../args.js';

export async function run(_argv: string[]): Promise<number> {
  throw new UsageError('explore: not built yet');
}
