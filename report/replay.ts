// A failing run as the reports give it back: its JSON, the command line that replays it, and its HTML timeline.

import type { ReproResult, RunFailure } from '../lib/explore/repro.js';
import { renderTimeline } from './timeline.js';
import { shellWord } from '../lib/strategy/index.js';

/** A failure for JSON; with records, the full flight record (cpu names, lock classes, events) a report is drawn from. */
export function failureJson(f: RunFailure | null, records = false): unknown {
  if (!f) return null;
  const head = { run: f.run, outcome: f.outcome, verdict: f.verdict, where: f.where, vcpu: f.vcpu, message: f.message, schedule: f.schedule };
  return records ? { ...head, cpuNames: f.cpuNames, lockClasses: f.lockClasses, crashCpu: f.crashCpu, events: f.events } : head;
}

/** The command line that replays a run: `scenario` and `strategy` as a command line names them (a file by its path);
 *  `options` (already shell words) rebuild the rest, e.g. the C backend's ` --backend c --xen-src DIR`. */
export function replayCommand(scenario: string, strategy: string, schedule: string, options = ''): string {
  return `vpci-lab repro ${shellWord(scenario)}${options} --strategy ${shellWord(strategy)} --schedule ${schedule}`;
}

/** A cell's or result's replay line: a scenario or patch file by its path (scenarioRef, strategyRef), a built-in by
 *  name; replayOptions what else the run needs (the C backend's tree and patches). */
export interface Replayable { scenario: string; strategy: string; scenarioRef?: string; strategyRef?: string; replayOptions?: string }
export function replayFor(c: Replayable, schedule: string): string {
  return replayCommand(c.scenarioRef ?? c.scenario, c.strategyRef ?? c.strategy, schedule, c.replayOptions);
}

export function timelineHtml(r: ReproResult, f: RunFailure): string {
  return renderTimeline({
    title: `${r.scenario} under ${r.strategy} (run ${f.run})`, outcome: f.outcome, verdict: f.verdict, schedule: f.schedule,
    replayCommand: replayFor(r, f.schedule), cpuNames: f.cpuNames, lockClasses: f.lockClasses, events: f.events,
    crash: f.crashCpu !== undefined ? { cpu: f.crashCpu, where: f.where, message: f.message } : undefined,
  });
}

