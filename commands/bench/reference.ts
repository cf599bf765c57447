// The native reference of `vpci-lab bench locks`: bench/ref/ticket.c (the same ticket lock in C11 atomics on
// pthreads), compiled with the system `cc` into a temporary directory at bench time and run in the same invocation.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** commands/bench/ref/ticket.c, found from dist/commands/bench/ (compiled) or commands/bench/ (sources run directly). */
async function sourcePath(): Promise<string> {
  for (const rel of ['../../../commands/bench/ref/ticket.c', './ref/ticket.c']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    try { await access(p); return p; } catch { /* next */ }
  }
  throw new Error('commands/bench/ref/ticket.c not found');
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export interface NativeRun { mode: string; threads: number; ops: number; ns: number; starts?: number[]; ends?: number[]; sleeps?: number;
  /** lib/sync/wait.ts WAIT_COUNTS, summed over the threads (contended modes, futex and v8wait policies). */
  waits?: number[] }
/**
 * Wait policies of ticket.c: `futex` is wait.ts in C (the like-for-like reference), `yield` spins then
 * sched_yield(), `v8wait` is `futex` with its sleeps made the way V8 makes Atomics.wait/notify (one process-wide
 * mutex, a condition variable per waiter): how much of the lab's contended cost is the runtime's wait primitive.
 */
export type NativePolicy = 'futex' | 'yield' | 'v8wait';

export class NativeReference {
  private constructor(private readonly dir: string, private readonly exe: string, readonly compiler: string) {}

  /** Compile the reference; undefined (with the reason) when there is no C compiler or it fails. */
  static async build(): Promise<NativeReference | { skipped: string }> {
    const cc = process.env.CC || 'cc';
    let src: string;
    try { src = await sourcePath(); } catch (e) { return { skipped: (e as Error).message }; }
    const dir = await mkdtemp(join(tmpdir(), 'vpci-lab-bench-'));
    const exe = join(dir, 'ticket');
    try {
      await run(cc, ['-O2', '-std=c11', '-pthread', src, '-o', exe], 60000);
      return new NativeReference(dir, exe, cc);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      const msg = (e as NodeJS.ErrnoException).message ?? String(e);
      return { skipped: /ENOENT/.test(msg) ? `no C compiler ('${cc}' not found)` : `'${cc}' failed: ${msg.split('\n')[0]}` };
    }
  }

  /**
   * One run: ns for `ops` lock/unlock pairs (uncontended) or acquisitions across `threads` threads (contended);
   * 'timed': the second argument is the round's length in ms, every thread runs until it has passed; `holdNs` > 0
   * adds a busy wait that long inside the critical section (ticket.c HOLD_NS).
   */
  async run(mode: 'uncontended' | 'contended' | 'timed', opsPerThread: number, threads = 1, timeoutMs = 60000, policy: NativePolicy = 'futex', holdNs = 0): Promise<NativeRun> {
    const args = mode === 'uncontended' ? [mode, String(opsPerThread)] : [mode, String(opsPerThread), String(threads), policy];
    if (mode === 'timed' && holdNs > 0) args.push(holdNs.toFixed(1));
    const out = await run(this.exe, args, timeoutMs);
    const r = JSON.parse(out.trim().split('\n').pop()!) as NativeRun;
    return r;
  }

  async dispose(): Promise<void> { await rm(this.dir, { recursive: true, force: true }); }
}
