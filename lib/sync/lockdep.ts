// Lock-order checking in the style of Linux lockdep: every blocking acquisition of class B while holding class A
// records the edge A -> B in a shared class matrix. An edge that closes a cycle is reported with both paths at the
// moment the order is first violated, before the threads involved ever meet and deadlock.

import { CTL, M, cpu, region, onAttach, LAYOUT } from '../mem/machine.js';
import { defineLayout, fieldWords } from '../mem/layout.js';
import { FLAG_LOCKDEP, instrWord, IW } from './profile.js';

export let lockdepOn = true;
let base = 0, nc = 1;
onAttach(() => {
  lockdepOn = (M[CTL.FLAGS] & FLAG_LOCKDEP) !== 0;
  instrWord[IW.lockdep] = lockdepOn ? 1 : 0;
  base = region('lockdep').base;
  nc = LAYOUT.lockClasses.length;
});

/** Control-block words: number of reports, then the first report's classes and CPU. */
const LOCKDEP_CTL = defineLayout('ctl.LOCKDEP', { COUNT: 1, A: 1, B: 1, CPU: 1 }, { capacity: fieldWords(CTL, 'LOCKDEP') });
const LD = {
  COUNT: CTL.LOCKDEP + LOCKDEP_CTL.COUNT, A: CTL.LOCKDEP + LOCKDEP_CTL.A, B: CTL.LOCKDEP + LOCKDEP_CTL.B, CPU: CTL.LOCKDEP + LOCKDEP_CTL.CPU,
} as const;

export interface LockdepReport { cpu: number; message: string }
const local: LockdepReport[] = [];
/** Reports made by this thread (the shared matrix keeps edges; text lives with the thread that saw it). */
export function lockdepReports(): readonly LockdepReport[] { return local; }
export function clearLockdepReports(): void { local.length = 0; }

/** Use instrument.ts setLockdep, which also refreshes the lock fast paths' flag. */
export function setLockdep(on: boolean): void {
  lockdepOn = on;
  instrWord[IW.lockdep] = on ? 1 : 0;
  if (on) Atomics.or(M, CTL.FLAGS, FLAG_LOCKDEP); else Atomics.and(M, CTL.FLAGS, ~FLAG_LOCKDEP);
}

export function lockdepAcquire(heldCls: ArrayLike<number>, heldAddr: ArrayLike<number>, depth: number, cls: number, addr: number, where: string): void {
  if (cls <= 0 || cls >= nc) return; // class 0: unclassified lab-internal lock; >= nc: garbage (freed lock, caught next)
  for (let i = 0; i < depth; i++) {
    const a = heldCls[i];
    if (a <= 0 || heldAddr[i] === addr) continue;
    const e = base + a * nc + cls;
    if (M[e] !== 0) continue;
    if (a === cls) {
      report(a, cls, `possible recursive locking: ${name(cls)} acquired while holding another ${name(a)} at ${where} (cpu${cpu})`);
    } else {
      const back = path(cls, a);
      if (back) {
        report(a, cls,
          `lock-order inversion at ${where} (cpu${cpu}): ${name(a)} -> ${name(cls)} ` +
          `against the recorded ${back.map(name).join(' -> ')}`);
      }
    }
    Atomics.compareExchange(M, e, 0, cpu + 1);
  }
}

/** A path from `from` to `to` along recorded edges, or undefined. */
function path(from: number, to: number): number[] | undefined {
  const prev = new Int32Array(nc).fill(-1);
  const queue = [from];
  prev[from] = from;
  while (queue.length) {
    const x = queue.shift()!;
    if (x === to) {
      const p = [to];
      for (let y = to; y !== from; y = prev[y]) p.push(prev[y]);
      return p.reverse();
    }
    for (let y = 0; y < nc; y++) {
      if (prev[y] < 0 && M[base + x * nc + y] !== 0) { prev[y] = x; queue.push(y); }
    }
  }
  return undefined;
}

function report(a: number, b: number, message: string): void {
  if (Atomics.add(M, LD.COUNT, 1) === 0) { M[LD.A] = a; M[LD.B] = b; M[LD.CPU] = cpu; }
  local.push({ cpu, message });
}

export function lockdepCount(): number { return Atomics.load(M, LD.COUNT); }
/** Every recorded edge, "A -> B" by class name (for reports and tests). */
export function lockdepEdges(): string[] {
  const out: string[] = [];
  for (let a = 0; a < nc; a++) for (let b = 0; b < nc; b++) if (M[base + a * nc + b] !== 0) out.push(`${name(a)} -> ${name(b)}`);
  return out;
}

function name(c: number): string { return LAYOUT.lockClasses[c] ?? `class#${c}`; }
