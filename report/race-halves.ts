// The other half of a race report, as Go's race detector and KASAN give it: beside the bad access, where the object
// was freed (CPU, function, event), and, for a verify counterexample, where the preemptions happened. Read from
// the flight record the timeline is drawn from, so it names only what the trace shows.

import { EV, type TimelineEvent } from '../lib/trace/recorder.js';

const FREE_SITE = /\bat ((?:vpci_remove_device|pci_remove_device|free_pdev)[:\w-]*(?:free|list_del)[\w-]*)/;

/** The last free the trace shows before the bad access of a use-after-free or double free, or undefined. */
export function freeHalf(events: TimelineEvent[], o: { outcome: string; crashCpu?: number | null; where?: string; cpuNames: string[] }): string | undefined {
  if (o.outcome !== 'use-after-free' && o.outcome !== 'double-free') return undefined;
  const name = (c: number): string => o.cpuNames[c] ?? `cpu${c}`;
  let bad = o.crashCpu !== undefined && o.crashCpu !== null ? events.findIndex((e) => e.cpu === o.crashCpu && e.ev === EV.CRASH) : -1;
  if (bad < 0) bad = events.length;
  for (let i = bad - 1; i >= 0; i--) {
    const m = FREE_SITE.exec(events[i].label);
    if (!m) continue;
    const access = o.crashCpu !== undefined && o.crashCpu !== null ? ` on ${name(o.crashCpu)}${o.where ? ` in ${o.where}` : ''}${bad < events.length ? ` (event #${bad})` : ''}` : '';
    return `freed on ${name(events[i].cpu)} at ${m[1]} (event #${i}), ${bad - i} events before the bad access${access}`;
  }
  return undefined;
}

const BLOCKING = new Set<number>([EV.DONE, EV.WAIT, EV.TRYFAIL, EV.CRASH]);

/**
 * Where a controlled schedule switched away from a vCPU that could have gone on (it had not finished, waited or
 * failed a trylock): the preemptions of a verify counterexample. Given only when their number is the search's
 * own count, so a reader never sees a switch misread as a preemption.
 */
export function preemptionHalf(events: TimelineEvent[], preemptions: number, cpuNames: string[]): string | undefined {
  if (preemptions <= 0) return undefined;
  const name = (c: number): string => cpuNames[c] ?? `cpu${c}`;
  const at: string[] = [];
  for (let i = 1; i < events.length; i++) {
    const prev = events[i - 1], cur = events[i];
    if (cur.cpu === prev.cpu || BLOCKING.has(prev.ev)) continue;
    if (!events.slice(i).some((e) => e.cpu === prev.cpu)) continue;
    at.push(`${name(prev.cpu)} after event #${i - 1} (${prev.label.replace(/^\S+\s+/, '').trim()}), ${name(cur.cpu)} ran`);
  }
  if (at.length !== preemptions) return undefined;
  return `preempted: ${at.join('; ')}`;
}
