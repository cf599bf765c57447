// The command line of the scripts a user runs with node (scripts/*.mjs). They cannot use cli/options.ts, which is
// built to dist/: check-layers and heap-reads run before any build. The rules are vpci-lab's: --help prints the
// usage and exits 0; an unknown option, a missing value or a wrong number of arguments is one line on stderr and
// exit 2, never a stack trace, and never a script that goes on to rewrite files with its arguments ignored.

import { parseArgs } from 'node:util';

/** One line on stderr, exit 2. */
export function usageError(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(2);
}

/**
 * Parse argv for script `name` (usage: its --help line). `options` as node's parseArgs takes them; `args`: how many
 * positional arguments, [min, max].
 */
export function scriptArgs(name, usage, { options = {}, args = [0, 0] } = {}, argv = process.argv.slice(2)) {
  let r;
  try {
    r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: args[1] > 0 });
  } catch (e) {
    usageError(name, e.message.split('\n')[0]);
  }
  if (r.values.help) { process.stdout.write(`usage: ${usage}\n`); process.exit(0); }
  const n = r.positionals.length;
  if (n < args[0] || n > args[1]) usageError(name, `${n < args[0] ? 'too few' : 'too many'} arguments (usage: ${usage})`);
  return r;
}
