// How a lab thread sleeps on a word of the machine and wakes its sleepers: the kernel's futex through a small
// Node-API addon (native/futex/futex.c) when it can be built, else V8's Atomics.wait/notify, which serialise every
// wait and wake of the process on one mutex (the lab's contended lock figures were mostly that).
//
// A futex sleeper is not woken by Atomics.notify, nor an Atomics.wait sleeper by a futex wake, so one mechanism owns
// each kind of word of a machine: the first thread to attach it decides (CTL.FLAGS: WAIT_DECIDED, FUTEX for the
// controlled scheduler's wake words when the addon loads there, FUTEX_LOCKS for the lock words unless VPCI_FUTEX=sched),
// and every later thread follows; a thread that cannot load the addon a machine waits with is a lab error, not a
// silent mix. The start barrier, the heap lock and the scheduler's end word (which the main thread awaits with
// Atomics.waitAsync) keep Atomics on their own words.
//
// Measured on the shared 2-core machine (load 25-28): controlled handoffs parked 99-278 k/s with futex against
// 31-44 k/s with Atomics (commands/bench/sched.js --threads 2 --spin 0). The lock words followed once a quiet run
// said so: `stress --strategy baseline,pcidevs,upstream --duration 20s`, Atomics / futex lock words alternated twice,
// baseline 10.3-10.7 / 11.4-11.7, pcidevs 12.9-13.6 / 13.8-14.0, upstream 12.0-12.8 / 13.3-13.6 M guest accesses/s;
// contended 8 threads of `bench locks`, 1013 -> 807 ns per acquisition (medians of three pairs). The length of one
// sleep did not clearly change (146-181 µs with futex, 153-164 µs with Atomics in the lead's later quiet runs; C's
// 77-90 µs). VPCI_FUTEX=sched keeps the lock words on Atomics (the scheduler's on futex), for such A/B runs.
//
// The addon is compiled at first use by the main thread with the system cc against Node's headers, and cached under
// .cache/futex/<hash of source and Node version>; without a compiler, or with VPCI_FUTEX=0, the lab uses Atomics and
// futexStatus() says why.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { CTL, M, onAttach } from '../mem/machine.js';

/** CTL.FLAGS bits: the machine's wait mechanism is decided; it is futex. */
export const FLAG_WAIT_DECIDED = 0x400, FLAG_FUTEX = 0x800, FLAG_FUTEX_LOCKS = 0x2000;

interface Addon {
  wait(m: Int32Array, index: number, expected: number, timeoutMs: number): number;
  wake(m: Int32Array, index: number, count: number): number;
  yield(): void;
}

let addon: Addon | undefined;
let tried = false;
let reason = 'not tried yet';
/** The attached machine's threads sleep with futex on the scheduler's wake words / on the lock words. */
export let useFutex = false, useFutexLocks = false;

/** The addon's source, from dist/lib/sync (compiled) or lib/sync (sources run directly). */
function source(): string | undefined {
  for (const rel of ['../../../native/futex/futex.c', '../../native/futex/futex.c']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function build(src: string, out: string): void {
  const include = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
  if (!fs.existsSync(path.join(include, 'node_api.h'))) throw new Error(`Node's headers not found (${include})`);
  const tmp = `${out}.tmp${process.pid}`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  try {
    execFileSync(cc, ['-O2', '-shared', '-fPIC', '-I', include, src, '-o', tmp], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    throw new Error(err.code === 'ENOENT' ? `no C compiler ('${cc}' not found)` : `'${cc}' failed: ${(err.stderr?.toString() || err.message).split('\n')[0]}`);
  }
  fs.renameSync(tmp, out); // atomic: a concurrent process finds the whole file or none
}

/** The addon, loaded (built first on the main thread when not cached); undefined with the reason in futexStatus. */
export function futexAddon(): Addon | undefined {
  if (tried) return addon;
  tried = true;
  if (process.env.VPCI_FUTEX === '0') { reason = 'off (VPCI_FUTEX=0)'; return undefined; }
  const src = source();
  if (!src) {
    reason = `off: native/futex/futex.c not found in ${fileURLToPath(new URL('../../..', import.meta.url))} (a dist/ copied without native/?)`;
    sayOff();
    return undefined;
  }
  const text = fs.readFileSync(src);
  const hash = createHash('sha256').update(text).update(process.version).update(process.arch).digest('hex').slice(0, 16);
  const out = path.resolve(path.dirname(src), '..', '..', '.cache', 'futex', hash, 'futex.node');
  try {
    if (!fs.existsSync(out)) {
      if (!isMainThread) throw new Error('not built yet (the main thread builds it)');
      build(src, out);
    }
    addon = createRequire(import.meta.url)(out) as Addon;
    reason = `on (${path.relative(process.cwd(), out) || out})`;
  } catch (e) {
    reason = `off: ${(e as Error).message.split('\n')[0]}`;
    sayOff();
  }
  return addon;
}

/**
 * Without the addon every wait falls back to Atomics.wait/notify: still correct, but slower, and nothing else showed
 * it (a dist/ copied away from native/ ran so unnoticed). Said once per command: by a main thread, and not again by
 * the processes it starts (they inherit the variable). VPCI_FUTEX=0 chooses the fallback and says nothing.
 */
function sayOff(): void {
  if (!isMainThread || process.env.VPCI_FUTEX_NOTED) return;
  process.env.VPCI_FUTEX_NOTED = '1';
  process.stderr.write(`vpci-lab: note: futex addon ${reason}; threads wait with Atomics.wait/notify instead (slower)\n`);
}

/** "on (...)" or "off: why", for reports. */
export function futexStatus(): string { futexAddon(); return reason; }

onAttach(() => {
  let f = Atomics.load(M, CTL.FLAGS);
  while ((f & FLAG_WAIT_DECIDED) === 0) {
    const mine = f | FLAG_WAIT_DECIDED | (futexAddon() ? FLAG_FUTEX | (process.env.VPCI_FUTEX === 'sched' ? 0 : FLAG_FUTEX_LOCKS) : 0);
    const prev = Atomics.compareExchange(M, CTL.FLAGS, f, mine);
    f = prev === f ? mine : prev;
  }
  useFutex = (f & FLAG_FUTEX) !== 0;
  useFutexLocks = (f & FLAG_FUTEX_LOCKS) !== 0;
  if (useFutex && !futexAddon()) throw new Error(`this machine's threads wait with futex, but this thread cannot: ${reason}`);
});

/** Scheduler wake words: sleep while M[addr] === seen, at most `ms` (a wake, a change or a spurious return ends it). */
export function sleepOn(addr: number, seen: number, ms: number): void {
  if (useFutex) addon!.wait(M, addr, seen, ms);
  else Atomics.wait(M, addr, seen, ms);
}

/** Scheduler wake words: wake one sleeper of M[addr]. */
export function wakeOne(addr: number): void {
  if (useFutex) addon!.wake(M, addr, 1);
  else Atomics.notify(M, addr, 1);
}

/** Lock words: sleep while M[addr] === seen, at most `ms`. */
export function lockSleep(addr: number, seen: number, ms: number): void {
  if (useFutexLocks) addon!.wait(M, addr, seen, ms);
  else Atomics.wait(M, addr, seen, ms);
}

/** Lock words: wake one sleeper of M[addr]. */
export function lockWakeOne(addr: number): void {
  if (useFutexLocks) addon!.wake(M, addr, 1);
  else Atomics.notify(M, addr, 1);
}

/** Lock words: wake every sleeper of M[addr]. */
export function lockWakeAll(addr: number): void {
  if (useFutexLocks) addon!.wake(M, addr, -1);
  else Atomics.notify(M, addr);
}

/**
 * Lock waiters: give this thread's core to another runnable thread (sched_yield, through the addon whichever
 * mechanism the lock words sleep with); without the addon, a short timed sleep on M[addr] (seen: its value).
 */
export function lockYield(addr: number, seen: number): void {
  if (addon) addon.yield();
  else Atomics.wait(M, addr, seen, 0.05);
}
