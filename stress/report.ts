// Text and JSON reports of a stress campaign: the outcome matrix with each strategy's cost next to its safety,
// lock statistics per class, and the first failure of each kind with the flight recorder's last events.

import os from 'node:os';
import { OUTCOMES, type Outcome } from '../lib/mem/crash.js';
import type { StrategyTotals } from './campaign.js';

export function table(rows: string[][], align: Array<'l' | 'r'> = []): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

const rate = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
const us = (ns: number): string => (ns / 1000).toFixed(ns < 10_000 ? 1 : 0);

/** One locktorture-style stats line. */
export function statsLine(t: StrategyTotals): string {
  const seen = OUTCOMES.filter((o) => t.outcomes[o] > 0).map((o) => `${o} ${t.outcomes[o]}`).join(' ');
  return `[stress] ${t.strategy}: trials ${t.trials} | ${seen || 'no trials yet'} | ${fmt(rate(t.guestAccesses, t.durationMs))} accesses/s ${fmt(rate(t.hypercalls, t.durationMs))} hypercalls/s`;
}

export function summary(all: StrategyTotals[]): string {
  if (all.length === 0) return 'no trials ran';
  const kinds: Outcome[] = OUTCOMES.filter((o) => o === 'ok' || all.some((t) => t.outcomes[o] > 0));
  const base = all.find((t) => t.strategy === 'baseline');
  const baseRate = base ? rate(base.guestAccesses, base.durationMs) : 0;
  const rows = [['strategy', 'trials', ...kinds, 'accesses/s', 'vs baseline', 'hypercalls/s', 'add+remove', 'pending done']];
  for (const t of all) {
    const r = rate(t.guestAccesses, t.durationMs);
    rows.push([t.strategy, String(t.trials), ...kinds.map((k) => String(t.outcomes[k])), fmt(r),
      baseRate ? `${(r / baseRate).toFixed(2)}x` : '-', fmt(rate(t.hypercalls, t.durationMs)), String(t.adds + t.removes), String(t.pendingDone)]);
  }
  const out = [table(rows, ['l']), ''];
  for (const t of all) {
    out.push(`${t.strategy}: ${t.guestAccesses.toLocaleString('en-US')} guest accesses, ${t.hypercalls.toLocaleString('en-US')} hypercalls in ${(t.durationMs / 1000).toFixed(1)} s of trials${t.replacedWorkers ? `, ${t.replacedWorkers} workers replaced` : ''}`);
    const locks = [['  lock class', 'acquired', 'contended', 'max wait us', 'max hold us']];
    for (const l of t.locks.filter((x) => x.name !== 'heap')) {
      locks.push([`  ${l.name}`, l.acquisitions.toLocaleString('en-US'), `${((100 * l.contended) / Math.max(1, l.acquisitions)).toFixed(1)}%`, us(l.maxWaitNs), us(l.maxHoldNs)]);
    }
    if (locks.length > 1) out.push(table(locks, ['l']));
    for (const f of t.firstFailures) {
      out.push(`  first ${f.outcome} (trial ${f.trial})${f.vcpu ? ` on ${f.vcpu}` : ''} in ${f.where}: ${f.message}`);
      for (const e of f.events) out.push(`      ${e}`);
    }
    for (const m of t.lockdep.slice(0, 3)) out.push(`  lockdep: ${m}`);
    out.push('');
  }
  return out.join('\n');
}

export function stressJson(all: StrategyTotals[], extra: Record<string, unknown> = {}): unknown {
  return {
    command: 'stress',
    cores: os.availableParallelism(),
    ...extra,
    results: all.map((t) => ({
      strategy: t.strategy, trials: t.trials, durationMs: Math.round(t.durationMs), outcomes: t.outcomes,
      guestAccesses: t.guestAccesses, hypercalls: t.hypercalls, pendingDone: t.pendingDone, addRemove: t.adds + t.removes,
      locks: t.locks.filter((l) => l.name !== 'heap').map((l) => ({ name: l.name, acquisitions: l.acquisitions, contended: l.contended, maxWaitNs: Math.round(l.maxWaitNs), maxHoldNs: Math.round(l.maxHoldNs) })),
      firstFailures: t.firstFailures, lockdep: t.lockdep,
    })),
  };
}
