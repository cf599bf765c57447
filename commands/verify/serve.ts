// A verify --jobs child that stays (lib/explore/verify-jobs.ts): it reads one job per line on stdin (the argv of
// a `vpci-lab verify` run, as JSON), runs it in this process with one warm pool kept between jobs, and answers each
// with its exit code, one line on fd 3 (stdout stays the command's own output). A child per job paid a process
// start, the workers' start and V8 compiling the model afresh in the main thread and every worker: about 2 s of CPU
// per scenario over the 21 of the matrix. Its one argument: the most threads any of its jobs will need, the pool's
// size from the start.

import fs from 'node:fs';
import readline from 'node:readline';
import { UsageError } from '../../cli/args.js';
import { run, keepPoolWarm } from './command.js';
import { confineProcess } from '../../lib/sched/place.js';

const REPLY_FD = 3;

async function one(argv: string[]): Promise<number> {
  try { return await run(argv); } catch (e) {
    // As cli/main.ts reports them: a scenario's or a patch's own error, or bad input, is one line and exit 2.
    const fault = (e as { name?: string; threads?: Array<{ fault?: string }> })?.name === 'TrialError'
      ? (e as { threads: Array<{ fault?: string }> }).threads.find((t) => t.fault)?.fault : undefined;
    const gap = (e as Error | undefined)?.name === 'NotSupplied' ? `${(e as Error).message}; no verdict` : undefined;
    if (e instanceof UsageError || fault || gap) { process.stderr.write(`vpci-lab: ${fault ?? gap ?? (e as Error).message}\n`); return 2; }
    process.stderr.write(`vpci-lab: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

confineProcess(); // VPCI_CPUS: the cores verify-jobs.ts gave this child (lib/sched/place.ts)
const release = keepPoolWarm(Number(process.argv[2] ?? 0) || 0);
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const code = await one(JSON.parse(line) as string[]);
  fs.writeSync(REPLY_FD, `${code}\n`);
}
await release();
