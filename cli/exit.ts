// The lab's exit codes, one place for every command (repro, explore, verify, merge): CI trusts them.
//   0  every outcome was expected or acceptable (or, for stress, the campaign ran)
//   1  a forbidden outcome (a surprise) happened, or an output file could not be written at the end
//   2  bad input (cli/args.ts UsageError), before any work; also a replay that diverges from its schedule
// 130  interrupted (Ctrl-C), 143 terminated (SIGTERM); what was measured is printed and written either way
// A closed stdout (`vpci-lab explore | head -1`) changes none of these: cli/main.ts keeps the verdict.

import { stopSignal } from './signals.js';

export const EXIT_OK = 0, EXIT_FORBIDDEN = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130, EXIT_TERMINATED = 143;

export function exitCode(o: { forbidden?: number; writeFailures?: number; interrupted?: boolean }): number {
  if (o.interrupted) return stopSignal() === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  if ((o.forbidden ?? 0) > 0 || (o.writeFailures ?? 0) > 0) return EXIT_FORBIDDEN;
  return EXIT_OK;
}
