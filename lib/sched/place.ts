// Where a controlled run's threads run: each on a core of its own when they fit the cores and those cores are
// free, so that a thread polling for the token (spin.ts) never shares its core with the thread that will hand over.
//
// Left to itself, this machine's kernel packed the two threads of a 2-thread run onto one core and kept them there:
// parked handoffs wake the next thread on the waker's core, two half-idle threads fit one core, and a poll on the
// token holder's core can only miss (it burns its budget while the holder waits for the core), so the threads park,
// stay half idle, and stay packed. Measured (bench sched, 2 threads, 100,000 yields per run, load 17): both threads
// on one core in every run, 19-57 of ~550-800 waits per thread ended while polling; pinned one per core, 49,9xx of
// ~49,950.
//
// But a pinned thread cannot leave a core that another process also wants: on the same busy machine, 4 of 5 pinned
// runs fell to 10-44 k handoffs/s against 87-161 k unpinned (each poll still ended in a hit, after the other process's
// time slice; parked and packed, a woken thread preempts at once). So a thread of such a run looks, every LOOK_MS,
// at how busy the machine was apart from this process (/proc/stat's busy time less this process's CPU time): above
// CROWDED cores it lets the kernel place it, below UNCROWDED it takes its core again. This process's own other
// threads (V8's compiler, the main thread) do not count: they come and go within a run.
//
// Pinning applies while a run's threads are no more than CORES and CORES is every CPU this process may use (not a
// share a parent gave it with VPCI_CORES, where other processes run on the rest); otherwise, and in free-running
// trials, a thread may run anywhere. A pin is one system call, made only when a pool worker's place changes (a
// campaign's CPU c runs on the same worker run after run). Without the futex addon, or with VPCI_PIN=0, threads go
// where the kernel puts them; VPCI_PIN=1 pins whatever the load (tests).

import fs from 'node:fs';
import { futexAddon } from './futex.js';
import { CORES } from './spin.js';

/** How often a thread of a run that fits the cores looks at the machine's load (ms). */
const LOOK_MS = 250;
/** Other processes' load (cores) above which this process's threads run unpinned, and below which pinned again. */
const CROWDED = 0.5, UNCROWDED = 0.25;

interface PinAddon { cpus(): number[]; pin(cpu: number): number; confine(cpus: number[], tids: number[]): number }

const ALWAYS = process.env.VPCI_PIN === '1';
let addon: PinAddon | undefined | null = null;
/** The CPUs this process may run on, when pinning is possible at all. */
let cpus: number[] = [];
/** The CPU this thread is pinned to, -1 when it may run on all of them; the one it would take, -1 for none. */
let pinned = -1, mine = -1;
/** Other processes were busy at the last look; when that was, the machine's busy ms and this process's CPU ms then. */
let crowded = false, lookedAt = 0, busyThen = 0, cpuThen = 0;

/** The futex addon's placement calls (each may be missing from an older build), none with VPCI_PIN=0. */
const placeAddon = (): Partial<PinAddon> | undefined =>
  process.env.VPCI_PIN === '0' ? undefined : futexAddon() as Partial<PinAddon> | undefined;

function pinner(): PinAddon | undefined {
  if (addon !== null) return addon;
  const a = placeAddon();
  addon = typeof a?.pin === 'function' && typeof a.cpus === 'function' ? a as PinAddon : undefined;
  if (addon) cpus = addon.cpus();
  if (cpus.length !== CORES || CORES < 2) addon = undefined;
  return addon;
}

function pinTo(a: PinAddon, cpu: number): void {
  if (cpu === pinned) return;
  if (a.pin(cpu) === 0) pinned = cpu;
  else addon = undefined; // not allowed here: no failing call per run
}

/**
 * The time this machine's processes kept its CPUs busy (ms, all CPUs), from /proc/stat's first line (ticks of
 * 10 ms): user, nice, system, irq, softirq. Not steal (the hypervisor running another guest: no process here) nor
 * guest (counted in user already). -1 when unreadable.
 */
function machineBusyMs(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'latin1');
    const t = f.slice(0, f.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
    const busy = t[0] + t[1] + t[2] + (t[5] ?? 0) + (t[6] ?? 0);
    return Number.isFinite(busy) ? busy * 10 : -1;
  } catch { return -1; }
}

/**
 * Place this thread for a run: CPU c of `threads` polling for its turn (spin !== 0) gets a core of its own when
 * the run fits the cores and other processes left them free at the last look; anything else (c < 0: a
 * free-running trial) runs anywhere.
 */
export function placeThread(c: number, threads = 0, spin = 0): void {
  const a = pinner();
  if (!a) return;
  mine = c >= 0 && spin !== 0 && threads <= CORES ? cpus[c] : -1;
  if (mine >= 0 && lookedAt === 0) checkPlace(); // the first look: a baseline
  pinTo(a, crowded ? -1 : mine);
}

/** Now and then while it waits for its turn: pin or unpin this thread by how busy other processes keep the cores. */
export function checkPlace(): void {
  if (mine < 0 || addon === null || addon === undefined || ALWAYS) return;
  const now = performance.now();
  if (now - lookedAt < LOOK_MS) return;
  const busy = machineBusyMs(), u = process.cpuUsage(), cpu = (u.user + u.system) / 1000;
  const others = (busy - busyThen - (cpu - cpuThen)) / (now - lookedAt); // cores
  if (busy >= 0 && busyThen > 0) crowded = crowded ? others > UNCROWDED : others > CROWDED;
  lookedAt = now; busyThen = busy; cpuThen = cpu;
  pinTo(addon, crowded ? -1 : mine);
}

/** The CPU this thread is pinned to (-1: none), for tests and benchmarks. */
export function pinnedCpu(): number { return pinned; }

// A parent that runs several lab processes side by side (verify --jobs) gives each its share of the cores
// (VPCI_CORES) and, with VPCI_CPUS, which ones: every thread of such a process then runs on those CPUs only. On one
// core a controlled run's threads take turns, each handoff a wake: on the core of the thread that wakes, the woken
// thread runs when the waker sleeps; with the process's threads spread over both cores, a wake was also a
// cross-core interrupt (a virtual machine's exit here) into the sibling process's core.

/** The CPUs this process may run on ([] without the futex addon or with VPCI_PIN=0): for a parent to share out. */
export function processCpus(): number[] {
  const a = placeAddon();
  return typeof a?.cpus === 'function' ? a.cpus() : [];
}

/**
 * Confine this process to VPCI_CPUS (a comma-separated list), if set: its threads now and every thread started
 * later (they inherit the affinity). Call on the main thread before the workers start. Returns what it did.
 */
export function confineProcess(): string {
  const want = process.env.VPCI_CPUS;
  if (want === undefined || want === '') return 'not confined';
  const list = want.split(',').map(Number);
  const a = placeAddon();
  if (list.some((c) => !Number.isInteger(c) || c < 0) || typeof a?.confine !== 'function') return 'not confined';
  const tids = fs.readdirSync('/proc/self/task').map(Number);
  return a.confine(list, tids) === 0 ? `confined to CPUs ${want}` : 'not confined';
}
