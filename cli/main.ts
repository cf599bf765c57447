#!/usr/bin/env node
// vpci-lab: one command, subcommands in commands/<name>/ (one folder each).

import { UsageError } from './args.js';
import { takeMachineOptions, MACHINE_OPTIONS_HELP } from './machine-options.js';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  stress: { summary: 'race the locking strategies on real threads (free-running) and report outcomes and cost', load: () => import('../commands/stress/command.js') },
  repro: { summary: 'run one race scenario under controlled scheduling until it fails; replay a schedule', load: () => import('../commands/repro/command.js') },
  explore: { summary: 'every scenario under every strategy: the matrix of outcomes', load: () => import('../commands/explore/command.js') },
  hunt: { summary: 'generate concurrent programs, run them under PCT, shrink every failure into a scenario file', load: () => import('../commands/hunt/command.js') },
  merge: { summary: 'combine the JSON of stress or explore shards into one result and one report', load: () => import('../commands/merge/command.js') },
  list: { summary: 'scenarios and strategies, one line each', load: () => import('../commands/list/command.js') },
  verify: { summary: 'every schedule within K preemptions and every fault placement: verified, refuted or incomplete', load: () => import('../commands/verify/command.js') },
  'diff-backends': { summary: 'every scenario under the TypeScript model and under Xen\'s compiled C: outcomes and sites side by side', load: () => import('../commands/diff-backends/command.js') },
  bench: { summary: 'benchmarks: bench locks [--quick] [--json FILE]; bench verify [--soundness]', load: () => import('../commands/bench/command.js') },
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'usage: vpci-lab <command> [options]     (vpci-lab <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`),
    '',
    'machine options, for every command:',
    ...MACHINE_OPTIONS_HELP,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new UsageError(`unknown command '${name}' (try: ${Object.keys(COMMANDS).join(', ')})`);
  return (await cmd.load()).run(takeMachineOptions(rest));
}

// `vpci-lab ... | head -1` closes the pipe early: that is the reader's choice, not an error, and not a verdict
// either. The rest of stdout is dropped, the run goes on to write its files, and the exit code is the command's
// (CI's `set -o pipefail` must see 1 when a surprise was found, not 0 because the reader left).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    // A trial stopped by the user's own file (a scenario actor's or a patch's error): one line, bad input.
    const fault = (e as { name?: string; threads?: Array<{ fault?: string }> })?.name === 'TrialError'
      ? (e as { threads: Array<{ fault?: string }> }).threads.find((t) => t.fault)?.fault : undefined;
    // The C backend reaching what the lab does not supply outside a trial (while a machine boots): the lab's error.
    const gap = (e as Error | undefined)?.name === 'NotSupplied' ? `${(e as Error).message}; no verdict` : undefined;
    if (e instanceof UsageError || fault || gap) {
      process.stderr.write(`vpci-lab: ${fault ?? gap ?? (e as Error).message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`vpci-lab: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
