import type { Chooser, ChooserName } from './chooser.js';
import { randomChooser } from './random.js';
import { pctChooser } from './pct.js';
import { replayChooser } from './replay.js';
import { verifyChooser } from './verify.js';

export * from './chooser.js';

/** Indexed by chooser id (the id is what the shared header stores). */
export const CHOOSERS: readonly Chooser[] = [randomChooser, pctChooser, replayChooser, verifyChooser];

export function chooserByName(name: ChooserName): Chooser {
  const c = CHOOSERS.find((x) => x.name === name);
  if (!c) throw new Error(`unknown chooser '${String(name)}' (random, pct, replay, verify)`);
  return c;
}
