// Command-line parsing on node:util parseArgs (strict: unknown flags are errors). Every usage problem becomes a
// UsageError: one line on stderr, exit code 2, never a stack trace.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(argv: string[], options: Options, allowPositionals = false): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

export function intOpt(v: string | boolean | undefined, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new UsageError(`--${name} wants a whole number, got '${String(v)}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** "30s", "2m", "1500ms", "45" (seconds) -> milliseconds. */
export function durationOpt(v: string | boolean | undefined, name: string, defMs: number): number {
  if (v === undefined) return defMs;
  const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v) : null;
  if (!m) throw new UsageError(`--${name} wants a duration like 30s, 2m or 500ms, got '${String(v)}'`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60000 : n * 1000;
  if (ms <= 0) throw new UsageError(`--${name} must be positive`);
  return ms;
}
