// JUnit XML so CI systems (GitLab, Jenkins, GitHub test reporters) show the lab's results as tests: one test case
// per scenario x strategy cell, one <failure> per forbidden outcome with the schedule string that replays it.

import type { ForbiddenRun } from '../lib/explore/repro.js';

export interface JunitCell {
  scenario: string; strategy: string; runs: number;
  outcomes: Record<string, number>;
  forbidden: ForbiddenRun[];
}

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c)
  // XML 1.0 forbids most control characters even escaped.
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

function testcase(suite: string, c: JunitCell): string {
  const counts = Object.entries(c.outcomes).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  const failures = c.forbidden.map((f) => {
    const msg = `${f.outcome} (forbidden for ${c.strategy}) in ${f.count} of ${c.runs} runs`;
    const body = [`${f.run >= 0 ? `first in run ${f.run}` : 'reachable'}${f.vcpu ? ` on ${f.vcpu}` : ''}${f.where ? ` in ${f.where}` : ''}: ${f.message}`,
      `schedule: ${f.schedule}`, `replay: vpci-lab repro ${c.scenario} --strategy ${c.strategy} --schedule ${f.schedule}`].join('\n');
    return `      <failure type="${esc(f.outcome)}" message="${esc(msg)}">${esc(body)}</failure>\n`;
  }).join('');
  return `    <testcase classname="${esc(`vpci-lab.${suite}.${c.scenario}`)}" name="${esc(c.strategy)}">\n${failures}`
    + `      <system-out>${esc(`${c.runs} runs: ${counts}`)}</system-out>\n    </testcase>\n`;
}

export function junitXml(suite: string, cells: JunitCell[]): string {
  const failures = cells.filter((c) => c.forbidden.length > 0).length;
  const bySuite = new Map<string, JunitCell[]>();
  for (const c of cells) bySuite.set(c.scenario, [...(bySuite.get(c.scenario) ?? []), c]);
  const suites = [...bySuite].map(([scenario, cs]) => {
    const f = cs.filter((c) => c.forbidden.length > 0).length;
    return `  <testsuite name="${esc(`${suite}.${scenario}`)}" tests="${cs.length}" failures="${f}" errors="0" skipped="0">\n${cs.map((c) => testcase(suite, c)).join('')}  </testsuite>\n`;
  }).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="vpci-lab ${esc(suite)}" tests="${cells.length}" failures="${failures}" errors="0">\n${suites}</testsuites>\n`;
}
