// A finding as an ordinary scenario file (README "Writing a scenario"): no imports, the program's actions as plain
// API calls, a comment saying what failed and where, and the schedule that replays it with `repro --schedule`.

import fs from 'node:fs';
import path from 'node:path';
import type { RunFailure } from '../repro.js';
import { shellWord } from '../../strategy/index.js';
import { actorLines, programMachine, type Program } from './program.js';
import { groupKey, type Group } from './dedup.js';
import { HUNT_EXPECT } from './interp.js';
import type { ReducedSchedule } from './schedule.js';

export interface FindingMeta {
  id: number; strategy: string; failure: RunFailure; group: Group;
  /** How the schedule was reduced; the hunt's command line; the program before shrinking. */
  reduced: Omit<ReducedSchedule, 'failure'>; command: string; original: { vcpus: number; actions: number }; shrinkSteps: number;
}

const js = (v: unknown): string => JSON.stringify(v).replace(/"([a-z_][a-z0-9_]*)":/gi, '$1: ').replace(/,/g, ', ');

export function scheduleNote(r: Omit<ReducedSchedule, 'failure'>): string {
  const sw = `${r.switches} context switch${r.switches === 1 ? '' : 'es'}`;
  if (r.method === 'verify') return `verify: ${r.preemptions} preemption${r.preemptions === 1 ? '' : 's'}, the fewest of any failing schedule; ${sw}`;
  return `PCT depth ${r.depth}: at most ${(r.depth ?? 1) - 1} priority change${r.depth === 2 ? '' : 's'}; ${sw}`;
}

export function findingSource(p: Program, m: FindingMeta, file: string): string {
  const f = m.failure;
  const name = `finding-${m.id}`;
  const actions = p.vcpus.reduce((n, v) => n + v.actions.length, 0);
  const head = [
    `// ${name}: ${f.outcome} under ${m.strategy}${f.where ? ` in ${f.where}` : ''}${f.vcpu ? ` on ${f.vcpu}` : ''}.`,
    ...(f.message ? [`//   ${f.message}`] : []),
    `// Found by: ${m.command}`,
    `// Shrunk from ${m.original.vcpus} vCPUs / ${m.original.actions} actions to ${p.vcpus.length} / ${actions} in ${m.shrinkSteps} steps.`,
    `// Group: ${groupKey(m.group)}`,
    `// Schedule (${scheduleNote(m.reduced)}):`,
    `//   ${f.schedule}`,
    `// Replay: vpci-lab repro ${shellWord(file)} --strategy ${m.strategy} --schedule ${f.schedule}`,
    '',
    `export const schedule = '${f.schedule}';`,
    '',
  ];
  const actors = p.vcpus.flatMap((v) => [`    ${v.name}(x) {`, ...actorLines(v.actions).map((l) => `      ${l}`), '    },']);
  const body = [
    'export default {',
    `  name: '${name}',`,
    `  description: ${JSON.stringify(`${f.outcome} found by vpci-lab hunt under ${m.strategy}`)},`,
    `  source: ${JSON.stringify(`vpci-lab hunt (${m.command})`)},`,
    `  machine: ${js(programMachine(p))},`,
    '  actors: {',
    ...actors,
    '  },',
    '  // What the hunt counts as no finding; anything else (this finding too) is forbidden.',
    `  expect: ${js(HUNT_EXPECT)},`,
    '};',
    '',
  ];
  return [...head, ...body].join('\n');
}

export function writeFinding(dir: string, p: Program, m: FindingMeta): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `finding-${m.id}.mjs`);
  fs.writeFileSync(file, findingSource(p, m, file));
  return file;
}
