// The lab's exit codes, one place for every command (repro, explore, verify, merge): CI trusts them.
//   0  every outcome was expected or acceptable (or, for stress, the campaign ran)
//   1  a forbidden outcome (a surprise) happened, or an output file could not be written at the end
//   2  bad input (cli/args.ts UsageError), before any work; also a replay that diverges from its schedule
// 130  interrupted (Ctrl-C), 143 terminated (SIGTERM); what was measured is printed and written either way
// A closed stdout (`vpci-lab explore | head -1`) changes none of these: cli/main.ts keeps the verdict.

import { stopSignal } from './signals.js';
import { UsageError } from './args.js';

export const EXIT_OK = 0, EXIT_FORBIDDEN = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130, EXIT_TERMINATED = 143;

export function exitCode(o: { forbidden?: number; writeFailures?: number; interrupted?: boolean }): number {
  if (o.interrupted) return stopSignal() === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  if ((o.forbidden ?? 0) > 0 || (o.writeFailures ?? 0) > 0) return EXIT_FORBIDDEN;
  return EXIT_OK;
}

/**
 * How a command's failure ends the process, for vpci-lab and for the scripts a user runs directly (bench/sched.js):
 * bad input is one line on stderr and exit 2: a UsageError, a trial stopped by the user's own file (a scenario
 * actor's or a patch's error), the C backend reaching what the lab does not supply outside a trial (while a
 * machine boots). Anything else is the lab's own error, with its stack, exit 1.
 */
export function failureExit(prog: string, e: unknown): number {
  const fault = (e as { name?: string } | undefined)?.name === 'TrialError'
    ? (e as { threads: Array<{ fault?: string }> }).threads.find((t) => t.fault)?.fault : undefined;
  const gap = (e as Error | undefined)?.name === 'NotSupplied' ? `${(e as Error).message}; no verdict` : undefined;
  if (e instanceof UsageError || fault || gap) {
    process.stderr.write(`${prog}: ${fault ?? gap ?? (e as Error).message}\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(`${prog}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

/** Run a script's main and set the exit code: its own, 0 when it returns none, or failureExit's. */
export function runMain(prog: string, main: () => Promise<number | void>): void {
  main().then((code) => { process.exitCode = code ?? EXIT_OK; }, (e: unknown) => { process.exitCode = failureExit(prog, e); });
}
