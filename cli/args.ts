// Usage errors and the value parsers behind stress/options.ts. Every usage problem becomes a UsageError: one line
// on stderr, exit code 2, never a stack trace.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

/** A whole number in [min, max]; negative numbers are read so the message can say what range is allowed. */
export function parseInt10(s: string, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(s)) throw new UsageError(`${flag} wants a whole number, got '${s}'`);
  const n = Number(s);
  if (n < min || n > max) {
    throw new UsageError(max === Number.MAX_SAFE_INTEGER ? `${flag} must be at least ${min}, got ${n}` : `${flag} must be between ${min} and ${max}, got ${n}`);
  }
  return n;
}

/** "30s", "2m", "1500ms", "45" (seconds) -> milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new UsageError(`${flag} wants a duration like 30s, 2m or 500ms, got '${s}'`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60000 : n * 1000;
  if (!(ms > 0)) throw new UsageError(`${flag} must be positive, got '${s}'`);
  return ms;
}

/**
 * A comma-separated list of names. An empty name ('a,,b', 'a,', ',') is refused, not skipped: a list that loses a
 * name to a typo, or ends up empty (no scenario at all), would run something other than what was asked for.
 */
export function nameList(s: string, what: string): string[] {
  const xs = s.split(',').map((x) => x.trim());
  if (xs.some((x) => x === '')) throw new UsageError(`${what} has an empty item in '${s}' (a comma-separated list, nothing between two commas or at an end)`);
  return xs;
}

// The pre-table helpers, kept for commands not yet on stress/options.ts.
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
  if (typeof v !== 'string') throw new UsageError(`--${name} wants a whole number`);
  return parseInt10(v, `--${name}`, min, max);
}

export function durationOpt(v: string | boolean | undefined, name: string, defMs: number): number {
  if (v === undefined) return defMs;
  if (typeof v !== 'string') throw new UsageError(`--${name} wants a duration`);
  return parseDuration(v, `--${name}`);
}
