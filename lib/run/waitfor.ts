// The wait-for graph of a trial, from what every CPU publishes in shared memory (lib/sync/held.ts: the lock it is
// waiting for and the locks it holds; rwlock readers publish the rwlock too, and a waiter queued on an rwlock's
// inner spinlock publishes the rwlock's address). CPU a -> CPU b when a waits for a lock b holds. A cycle is a
// deadlock; it is reported naming CPUs and lock classes.

import { M, LAYOUT } from '../mem/machine.js';
import { publishedOf, SPIN, RW, LOCK_KIND_SPIN, LOCK_KIND_RW } from '../sync/index.js';
import { readRing, EV } from '../trace/recorder.js';
import { siteName } from '../trace/sites.js';

export interface CpuWait {
  cpu: number;
  /** Lock address it waits for (0: none). */
  waitingOn: number;
  held: number[];
}

/** Optional naming of lock addresses by a higher layer (e.g. "vpci->lock of 0000:00:03.0"). */
export type LockNamer = (addr: number) => string | undefined;

/**
 * Published state of `cpus`. `fallbackWait(c)` supplies a wait address for CPUs that publish none (the controlled
 * scheduler knows the word a blocked thread sleeps on).
 */
export function snapshotWaits(cpus: readonly number[], fallbackWait?: (c: number) => number): CpuWait[] {
  return cpus.map((cpu) => {
    const p = publishedOf(cpu);
    return { cpu, waitingOn: p.waitingOn || (fallbackWait?.(cpu) ?? 0), held: p.held };
  });
}

export function holdersOf(snap: readonly CpuWait[], addr: number, except = -1): number[] {
  return snap.filter((w) => w.cpu !== except && w.held.includes(addr)).map((w) => w.cpu);
}

/** A cycle of waiters, each waiting for a lock the next one holds (rotated to start at the lowest CPU). */
export function findCycle(snap: readonly CpuWait[]): CpuWait[] | undefined {
  const byCpu = new Map(snap.map((w) => [w.cpu, w]));
  const next = (w: CpuWait): CpuWait[] => (w.waitingOn === 0 ? [] : holdersOf(snap, w.waitingOn, w.cpu).map((c) => byCpu.get(c)!));
  for (const start of snap) {
    // DFS from start, looking for a path back to start
    const path: CpuWait[] = [start];
    const seen = new Set<number>([start.cpu]);
    const dfs = (w: CpuWait): boolean => {
      for (const x of next(w)) {
        if (x.cpu === start.cpu) return true;
        if (seen.has(x.cpu)) continue;
        seen.add(x.cpu); path.push(x);
        if (dfs(x)) return true;
        path.pop();
      }
      return false;
    };
    if (dfs(start)) {
      const i = path.reduce((b, w, k) => (w.cpu < path[b].cpu ? k : b), 0);
      return [...path.slice(i), ...path.slice(0, i)];
    }
  }
  return undefined;
}

/** Stable identity of a cycle (to see it persist across watchdog samples). */
export function cycleKey(cycle: readonly CpuWait[]): string {
  return cycle.map((w) => `${w.cpu}:${w.waitingOn}`).join(',');
}

/** Kind and class of the lock at addr, as its init recorded them (the `kind` word of spinlock_t / rwlock_t). */
export function lockInfo(addr: number): { kind: 'spinlock' | 'rwlock' | 'word'; cls: string } {
  const classes = LAYOUT.lockClasses;
  const name = (c: number): string => classes[c] ?? '?';
  if (M[addr + RW.kind] === LOCK_KIND_RW) return { kind: 'rwlock', cls: name(M[addr + RW.cls]) };
  if (M[addr + SPIN.kind] === LOCK_KIND_SPIN) return { kind: 'spinlock', cls: name(M[addr + SPIN.cls]) };
  return { kind: 'word', cls: '?' };
}

export function lockLabel(addr: number, namer?: LockNamer): string {
  const custom = namer?.(addr);
  const { kind, cls } = lockInfo(addr);
  return `${kind} ${cls}@${addr}${custom ? ` (${custom})` : ''}`;
}

/** "cpu0 waits for spinlock B@1234, held by cpu1 -> cpu1 waits for spinlock A@1229, held by cpu0" */
export function describeCycle(cycle: readonly CpuWait[], namer?: LockNamer): string {
  return cycle.map((w, i) => {
    const holder = cycle[(i + 1) % cycle.length];
    return `cpu${w.cpu} waits for ${lockLabel(w.waitingOn, namer)}, held by cpu${holder.cpu}`;
  }).join(' -> ');
}

const EV_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EV).map(([k, v]) => [v, k.toLowerCase()]));

function lastEvent(cpu: number): string {
  const ring = readRing(cpu);
  const e = ring[ring.length - 1];
  if (!e) return 'no events';
  const what = EV_NAMES[e.ev] ?? `ev${e.ev}`;
  if (e.ev === EV.SITE || e.ev === EV.ENTER || e.ev === EV.RET || e.ev === EV.NOTE) return `${what} ${siteName(e.a)}`;
  if (e.ev >= EV.LOCK && e.ev <= EV.WAIT) return `${what} ${lockLabel(e.b)}`;
  return what;
}

/**
 * One line per CPU of `only` (default: all of snap): what it waits for (and who holds that, "finished" when the
 * holder's actor has returned still holding it) and holds, or what it last did.
 */
export function describeStuck(snap: readonly CpuWait[], namer?: LockNamer, only?: readonly number[]): string {
  const live = new Set(only ?? snap.map((w) => w.cpu));
  return snap.filter((w) => live.has(w.cpu)).map((w) => {
    const holds = w.held.length ? `holds ${w.held.map((a) => lockLabel(a, namer)).join(', ')}` : 'holds no lock';
    if (w.waitingOn !== 0) {
      const h = holdersOf(snap, w.waitingOn, w.cpu).map((c) => `cpu${c}${live.has(c) ? '' : ' (finished)'}`);
      return `cpu${w.cpu} waits for ${lockLabel(w.waitingOn, namer)}${h.length ? `, held by ${h.join(', ')}` : ''}; ${holds}`;
    }
    return `cpu${w.cpu} is running (last event: ${lastEvent(w.cpu)}); ${holds}`;
  }).join('; ');
}
