// Grouping findings: two failures are the same finding when they end in the same outcome, in the same function,
// after the same sequence of race sites (the named race windows of lib/trace/sites.ts the run passed, in order of
// first occurrence). A --known file lists groups already known, so a long hunt reports only what is new.

import fs from 'node:fs';
import { OUTCOMES, type Outcome } from '../../mem/crash.js';
import { EV } from '../../trace/recorder.js';
import { siteName } from '../../trace/sites.js';
import type { RunFailure } from '../repro.js';

export interface Group { outcome: Outcome; where: string; sites: string[] }

/** A known group is a pattern: `where` (if given) must be equal and `sites` (if given) must occur in this order
 *  within the finding's sites, other sites allowed between them. */
export interface KnownGroup { name?: string; outcome: Outcome; where?: string; sites?: string[] }

const ENTRY_SITES = new Set([
  'PHYSDEVOP_pci_device_add', 'PHYSDEVOP_pci_device_remove', 'XEN_DOMCTL_assign_device', 'XEN_DOMCTL_deassign_device',
  'vpci_read', 'vpci_write', 'hvm_do_resume', 'vpci_process_pending', 'actor', 'scenario',
]);

/** Race sites in order of first occurrence (entry points left out: every run passes them). */
export function raceSites(events: RunFailure['events']): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.ev !== EV.SITE) continue;
    const s = siteName(e.a);
    if (!ENTRY_SITES.has(s) && !out.includes(s)) out.push(s);
  }
  return out;
}

/** The kind of stale mapping, without device, domain and counts: what the scan saw, as its "function". */
export function staleKind(message: string): string {
  const first = message.split('; ')[0];
  return `stale-mapping scan: ${first.replace(/BAR( ROM|\d)/g, 'BAR').replace(/\bd\d+\b/g, 'dN').replace(/0x[0-9a-f]+|\d+/g, 'N')}`;
}

/**
 * A crash's group starts where the crashing vCPU last entered Xen (the action whose consequences crashed it): what
 * it and everyone else passed since then. A stale mapping, deadlock or hang has no such vCPU: the whole run counts.
 */
/** What grouping reads of a failure (repro's RunFailure and verify's FailureReport both have it). */
export type FailureLike = Pick<RunFailure, 'outcome' | 'where' | 'message' | 'events' | 'crashCpu'>;

export function groupOf(f: FailureLike): Group {
  let events = f.events;
  if (f.crashCpu !== undefined) {
    for (let i = events.length - 1; i >= 0; i--) if (events[i].cpu === f.crashCpu && events[i].ev === EV.ENTER) { events = events.slice(i); break; }
  }
  return { outcome: f.outcome, where: f.outcome === 'stale-mapping' ? staleKind(f.message) : f.where, sites: raceSites(events) };
}

export function groupKey(g: Group): string { return `${g.outcome} in ${g.where}: ${g.sites.join(' > ')}`; }

function subsequence(want: readonly string[], have: readonly string[]): boolean {
  let i = 0;
  for (const s of have) if (i < want.length && s === want[i]) i++;
  return i === want.length;
}

export function matches(k: KnownGroup, g: Group): boolean {
  return k.outcome === g.outcome && (k.where === undefined || k.where === g.where) && subsequence(k.sites ?? [], g.sites);
}

/** A --known file that cannot be used (the CLI prints one line and exits 2). */
export class KnownFileError extends Error {
  constructor(message: string) { super(message); this.name = 'KnownFileError'; }
}

export function parseKnown(text: string, file: string): KnownGroup[] {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new KnownFileError(`--known ${file}: not JSON (${(e as Error).message.split('\n')[0]})`); }
  if (!Array.isArray(v)) throw new KnownFileError(`--known ${file}: expected a JSON list of groups like [{ "outcome": "stale-mapping", "sites": ["defer_map"] }]`);
  return v.map((g: unknown, i) => {
    const o = g as Record<string, unknown>;
    const bad = (what: string): never => { throw new KnownFileError(`--known ${file}: group ${i} ${what}`); };
    if (!o || typeof o !== 'object' || Array.isArray(o)) bad('is not an object');
    if (!(OUTCOMES as readonly unknown[]).includes(o.outcome)) bad(`has outcome ${JSON.stringify(o.outcome)} (known: ${OUTCOMES.join(', ')})`);
    if (o.where !== undefined && typeof o.where !== 'string') bad('has a "where" that is not a string');
    if (o.name !== undefined && typeof o.name !== 'string') bad('has a "name" that is not a string');
    if (o.sites !== undefined && (!Array.isArray(o.sites) || o.sites.some((s) => typeof s !== 'string'))) bad('has "sites" that is not a list of site names');
    const extra = Object.keys(o).filter((k) => !['name', 'outcome', 'where', 'sites', 'note'].includes(k));
    if (extra.length) bad(`has unknown field "${extra[0]}" (fields: name, outcome, where, sites, note)`);
    return { name: o.name as string | undefined, outcome: o.outcome as Outcome, where: o.where as string | undefined, sites: o.sites as string[] | undefined };
  });
}

export function readKnown(file: string): KnownGroup[] {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new KnownFileError(`--known ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  return parseKnown(text, file);
}
