// A failing run as the reports give it back: its JSON, the command line that replays it, and its HTML timeline.

import type { ReproResult, RunFailure } from '../lib/explore/repro.js';
import { renderTimeline } from './timeline.js';

/** A failure for JSON; with records, the full flight record (cpu names, lock classes, events) a report is drawn from. */
export function failureJson(f: RunFailure | null, records = false): unknown {
  if (!f) return null;
  const head = { run: f.run, outcome: f.outcome, verdict: f.verdict, where: f.where, vcpu: f.vcpu, message: f.message, schedule: f.schedule };
  return records ? { ...head, cpuNames: f.cpuNames, lockClasses: f.lockClasses, crashCpu: f.crashCpu, events: f.events } : head;
}

export function replayCommand(scenario: string, strategy: string, schedule: string): string {
  return `vpci-lab repro ${scenario} --strategy ${strategy} --schedule ${schedule}`;
}

export function timelineHtml(r: ReproResult, f: RunFailure, ref: string): string {
  return renderTimeline({
    title: `${r.scenario} under ${r.strategy} (run ${f.run})`, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule,
    replayCommand: replayCommand(ref, r.strategy, f.schedule), cpuNames: f.cpuNames, lockClasses: f.lockClasses, events: f.events,
    crash: f.crashCpu !== undefined ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  });
}

