// A stress campaign's result (stress/stress-json.ts) as a report page.

import { OUTCOMES, type Outcome } from '../../lib/mem/crash.js';
import { histogramsOf, type StressJson } from '../stress-json.js';
import { distributionOf, type ReportModel, type FailureSection, type LockRow, type Tone } from './model.js';
import { failureTimeline, REPORT_EVENTS, COMPACT_EVENTS } from './from-explore.js';
import { knownBugOf, provenance } from '../known-bugs.js';
import { stressFailureLike, vsBase } from '../tables.js';
import { stressReplay } from '../junit.js';
import { freeHalf } from '../race-halves.js';
import { envLine } from './env.js';

/**
 * Free-running trials have no scenario to judge by, so the page colours by what the analysis says of any
 * strategy: a clean trial is the goal, a DomU crashed on purpose after a failed map is a strategy's declared
 * policy, and a hypervisor crash, a stale mapping, a deadlock or a hang is never acceptable.
 */
export function stressTone(o: Outcome): Tone {
  return o === 'ok' ? 'expected' : o === 'domain-crashed' ? 'acceptable' : 'forbidden';
}

export function stressReport(j: StressJson, title = 'vpci-lab stress'): ReportModel {
  const kinds = OUTCOMES.filter((o) => o === 'ok' || j.results.some((t) => t.outcomes[o] > 0));
  const base = j.results.find((t) => t.strategy === 'baseline');
  const rate = (n: number, ms: number): number => (ms > 0 ? (n * 1000) / ms : 0);
  const id = (strategy: string, o: string): string => `first-${strategy}-${o}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const failures: FailureSection[] = j.results.flatMap((t) => t.firstFailures.map((f) => {
    // A known bug of the generation is what a reader skips: its timeline is compact; a finding keeps the long one.
    const keep = knownBugOf(t.strategy, stressFailureLike(f)) ? COMPACT_EVENTS : REPORT_EVENTS;
    const replay = stressReplay(j, t, f.trial);
    return {
      id: id(t.strategy, f.outcome), title: `${t.strategy}: ${f.outcome}`, tone: stressTone(f.outcome), outcome: f.outcome,
      summary: `${f.where ? `in ${f.where}` : ''}${f.vcpu ? ` on ${f.vcpu}` : ''}, first in trial ${f.trial}, ${t.outcomes[f.outcome]} of ${t.trials} trials: ${f.message}`,
      provenance: provenance(t.strategy, stressFailureLike(f)), replay,
      otherHalf: f.record && freeHalf(f.record.events, { outcome: f.outcome, crashCpu: f.record.crashCpu, where: f.where, cpuNames: f.record.cpuNames }),
      note: f.record && f.record.events.length > keep ? `the timeline shows the last ${keep} of ${f.record.events.length} events; the JSON keeps all` : undefined,
      timeline: f.record && failureTimeline(`${t.strategy}: ${f.outcome} (trial ${f.trial})`, replay,
        { ...f.record, outcome: f.outcome, verdict: stressTone(f.outcome) as 'expected', schedule: '', where: f.where, message: f.message }, keep),
    };
  }));
  failures.sort((a, b) => Number(b.tone === 'forbidden') - Number(a.tone === 'forbidden'));
  const locks: LockRow[] = j.results.flatMap((t) => {
    const h = histogramsOf(t);
    return t.locks.map((l) => ({ group: t.strategy, lock: l.name, acquisitions: l.acquisitions, contended: l.contended,
      wait: h.get(l.name) && distributionOf(h.get(l.name)!.wait), hold: h.get(l.name) && distributionOf(h.get(l.name)!.hold) }));
  });
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  return {
    title,
    subtitle: `${j.shape.domus + 1} domains x ${j.shape.vcpus} vCPUs, ${j.shape.devices} devices${j.shape.msix ? ' with MSI-X' : ''}; inject iommu=${j.inject.iommu / 1000} map=${j.inject.map / 1000}; seed ${j.seed}; ${j.cores} cores${j.shard ? `; shard ${j.shard.index + 1}/${j.shard.count}` : ''}${j.interrupted ? '; interrupted' : ''}`,
    matrix: {
      corner: 'strategy', columns: ['trials', ...kinds, 'accesses/s', 'vs baseline'],
      rows: j.results.map((t) => ({ name: t.strategy, cells: [
        { parts: [{ label: n(t.trials), tone: 'neutral' as Tone }] },
        ...kinds.map((k) => (t.outcomes[k] ? { parts: [{ label: k, count: t.outcomes[k], tone: stressTone(k), outcome: k }], href: t.firstFailures.some((f) => f.outcome === k) ? id(t.strategy, k) : undefined } : null)),
        { parts: [{ label: n(rate(t.guestAccesses, t.durationMs)), tone: 'neutral' as Tone }] },
        { parts: [{ label: base ? `${vsBase(t, base).ratio}${vsBase(t, base).spread !== '-' ? ` · per block ${vsBase(t, base).spread}` : ''}` : '-', tone: 'neutral' as Tone }] },
      ] })),
    },
    legend: [{ tone: 'expected', text: 'clean trial' }, { tone: 'acceptable', text: 'a DomU crashed by the strategy on purpose' }, { tone: 'forbidden', text: 'hypervisor crash, stale mapping, deadlock or hang' }],
    locks, failures,
    summary: {
      surprises: j.results.flatMap((t) => t.firstFailures.filter((f) => stressTone(f.outcome) === 'forbidden' && provenance(t.strategy, stressFailureLike(f)) === 'finding')
        .map((f) => ({ text: `${t.strategy}: ${f.outcome}${f.where ? ` in ${f.where}` : ''} in ${t.outcomes[f.outcome]} of ${t.trials} trials (a finding)`, href: id(t.strategy, f.outcome) }))),
      env: envLine({ cores: j.cores, load: j.load }),
      what: ['finding (a crash, stale mapping, deadlock or hang that no known bug of the generation explains)', 'findings (crashes, stale mappings, deadlocks or hangs that no known bug of the generation explains)',
        'No findings: every failure is a known bug of its generation or a DomU crashed on purpose.'],
    },
    notes: j.results.flatMap((t) => t.lockdep.slice(0, 3).map((m) => `lockdep (${t.strategy}): ${m}`)),
  };
}
