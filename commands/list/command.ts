// vpci-lab list: scenarios and strategies, one line each.

import { UsageError } from '../../cli/args.js';
import { parseCommand, flag, string } from '../../cli/options.js';
import { STRATEGIES, parseStrategies, PatchError, type Strategy } from '../../lib/strategy/index.js';
import { BUILTIN_SCENARIOS, loadScenario } from '../../lib/scenario/scenario.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand({
    usage: 'list [--json] [--strategy NAME|FILE,...]', description: 'The built-in scenarios and the strategies, one line each; with --strategy, what each one patches.',
    options: { json: flag('print { scenarios, strategies } as JSON'), strategy: string('strategies or patch files, comma-separated', { arg: 'NAME|FILE,...' }) },
  }, argv);
  if (!args) return 0;
  const v = args.values;
  let chosen: readonly Strategy[] = STRATEGIES;
  if (v.strategy !== undefined) {
    try { chosen = await parseStrategies(v.strategy); } catch (e) { if (e instanceof PatchError) throw new UsageError(e.message); throw e; }
  }
  const scenarios = v.strategy !== undefined ? [] : await Promise.all(BUILTIN_SCENARIOS.map(async (n) => (await loadScenario(n)).scenario));
  const strategies = chosen.map((s) => ({
    name: s.name, summary: s.summary, source: s.source, generation: s.generation.name, file: s.file ?? null,
    patches: s.chain.map((p) => p.name), replaces: [...new Set(s.chain.flatMap((p) => Object.keys(p.replace ?? {})))],
    description: s.chain[s.chain.length - 1]?.description ?? '', expects: Object.keys(s.chain[s.chain.length - 1]?.expect ?? {}),
  }));
  if (v.json) {
    process.stdout.write(JSON.stringify({ scenarios: scenarios.map((s) => ({ name: s.name, description: s.description, source: s.source ?? '' })), strategies }, null, 2) + '\n');
    return 0;
  }
  const w = Math.max(...scenarios.map((s) => s.name.length), ...strategies.map((s) => s.name.length));
  if (scenarios.length) process.stdout.write('scenarios:\n' + scenarios.map((s) => `  ${s.name.padEnd(w)}  ${s.description}`).join('\n') + '\n\n');
  process.stdout.write('strategies:\n' + strategies.map((s) => `  ${s.name.padEnd(w)}  [${s.generation}] ${s.summary}`).join('\n') + '\n');
  if (v.strategy !== undefined) {
    for (const s of strategies) {
      process.stdout.write(`\n${s.name}: ${s.generation} + ${s.patches.join(' + ')}${s.file ? ` (${s.file})` : ''}\n  replaces: ${s.replaces.join(', ') || 'nothing'}\n`);
      if (s.description) process.stdout.write(`  ${s.description}\n`);
      // Where a scenario does not name the patch: its own expect, or judged as a fix (lib/scenario/judge.ts).
      process.stdout.write(`  judged: ${s.file ? (s.expects.length ? `by its own expect for ${s.expects.join(', ')}, elsewhere as a fix` : 'as a fix on built-in scenarios (ok expected, the generation\'s known bugs let off)') : "by each scenario's expectations"}\n`);
    }
  }
  return 0;
}
