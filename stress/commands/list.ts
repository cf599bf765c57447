// vpci-lab list: scenarios and strategies, one line each.

import { parse } from '../args.js';
import { STRATEGIES } from '../../lib/strategy/index.js';
import { BUILTIN_SCENARIOS, loadScenario } from '../scenario.js';

export async function run(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (v.help) { process.stdout.write('usage: vpci-lab list [--json]\n'); return 0; }
  const scenarios = await Promise.all(BUILTIN_SCENARIOS.map(async (n) => (await loadScenario(n)).scenario));
  const strategies = STRATEGIES.map((s) => ({ name: s.name, summary: s.summary, source: s.source }));
  if (v.json) {
    process.stdout.write(JSON.stringify({ scenarios: scenarios.map((s) => ({ name: s.name, description: s.description, source: s.source ?? '' })), strategies }, null, 2) + '\n');
    return 0;
  }
  const w = Math.max(...scenarios.map((s) => s.name.length), ...strategies.map((s) => s.name.length));
  process.stdout.write('scenarios:\n' + scenarios.map((s) => `  ${s.name.padEnd(w)}  ${s.description}`).join('\n') + '\n\n');
  process.stdout.write('strategies:\n' + strategies.map((s) => `  ${s.name.padEnd(w)}  ${s.summary}`).join('\n') + '\n');
  return 0;
}
