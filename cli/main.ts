#!/usr/bin/env node
// vpci-lab: one command, subcommands in commands/<name>/ (one folder each).

import { UsageError } from './args.js';
import { runMain } from './exit.js';
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
    if (name !== undefined) return 0;
    process.stderr.write('vpci-lab: which command? (the list above; vpci-lab <command> --help for its options)\n');
    return 2;
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

runMain('vpci-lab', () => main(process.argv.slice(2)));
