import { UsageError } from '../args.js';

export async function run(_argv: string[]): Promise<number> {
  throw new UsageError('bench: not built yet');
}
