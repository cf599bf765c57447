// One declarative option table per command: the same table parses argv, validates every value and writes --help,
// so a flag cannot be documented one way and parsed another. Output paths are checked here, before any work.

import { parseArgs } from 'node:util';
import { UsageError, parseInt10, parseDuration } from './args.js';
import { checkOutputFile, checkOutputDir, distinctOutputs } from './output.js';

/** One option: how it reads its value (undefined when absent), how --help shows it. */
export interface Opt<T> {
  kind: 'value' | 'flag';
  /** Repeatable (--patch A --patch B): read gets every value, in order. */
  multiple?: boolean;
  help: string;
  /** Placeholder in --help, e.g. N, FILE. */
  arg?: string;
  short?: string;
  /** Shown as "(default ...)" in --help. */
  defaultText?: string;
  /** A path the command writes: read after every other option, so bad values are reported before files are checked. */
  output?: boolean;
  read(raw: string | boolean | string[] | undefined, flag: string): T;
}

export type OptionTable = Record<string, Opt<unknown>>;
export type Values<T extends OptionTable> = { [K in keyof T]: T[K] extends Opt<infer V> ? V : never };

export interface CommandSpec<T extends OptionTable> {
  /** What the user types before usage: vpci-lab, or a script's `node dist/...js`. */
  program?: string;
  /** e.g. "repro SCENARIO|PATH --strategy NAME [options]" */
  usage: string;
  description: string;
  options: T;
  /** How many positional arguments, and what to say when the count is wrong. */
  positionals?: { min: number; max: number; what: string };
  /** Extra paragraphs after the option list. */
  footer?: string;
}

const str = (raw: string | boolean | string[] | undefined, flag: string): string | undefined => {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '') throw new UsageError(`${flag} wants a value`);
  return raw;
};

interface IntSpec { min?: number; max?: number; arg?: string }
export function int(help: string, o: IntSpec & { default: number }): Opt<number>;
export function int(help: string, o?: IntSpec): Opt<number | undefined>;
export function int(help: string, o: IntSpec & { default?: number } = {}): Opt<number | undefined> {
  return {
    kind: 'value', help, arg: o.arg ?? 'N', defaultText: o.default === undefined ? undefined : String(o.default),
    read: (raw, flag) => { const s = str(raw, flag); return s === undefined ? o.default : parseInt10(s, flag, o.min ?? 0, o.max ?? Number.MAX_SAFE_INTEGER); },
  };
}

export function string(help: string, o: { default: string; arg?: string; check?: (v: string, flag: string) => void }): Opt<string>;
export function string(help: string, o?: { arg?: string; check?: (v: string, flag: string) => void }): Opt<string | undefined>;
export function string(help: string, o: { default?: string; arg?: string; check?: (v: string, flag: string) => void } = {}): Opt<string | undefined> {
  return {
    kind: 'value', help, arg: o.arg ?? 'STRING', defaultText: o.default,
    read: (raw, flag) => { const s = str(raw, flag) ?? o.default; if (s !== undefined) o.check?.(s, flag); return s; },
  };
}

export function choice<C extends string>(help: string, choices: readonly C[], def: C): Opt<C> {
  return {
    kind: 'value', help: choices.join('|').length <= 12 ? help : `${help} (${choices.join(', ')})`, arg: choices.join('|').length <= 12 ? choices.join('|') : 'NAME', defaultText: def,
    read: (raw, flag) => {
      const s = str(raw, flag) ?? def;
      if (!(choices as readonly string[]).includes(s)) throw new UsageError(`${flag} must be ${choices.join(' or ')}, got '${s}'`);
      return s as C;
    },
  };
}

/** A repeatable value (--patch A --patch B), in the order given; [] when absent. */
export function strings(help: string, o: { arg?: string } = {}): Opt<string[]> {
  return {
    kind: 'value', multiple: true, help: `${help} (repeatable)`, arg: o.arg ?? 'STRING',
    read: (raw, flag) => (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((x) => str(x, flag)!),
  };
}

export function flag(help: string, short?: string): Opt<boolean> {
  return { kind: 'flag', help, short, read: (raw) => raw === true };
}

/** "30s", "2m", "1500ms", "45" (seconds) -> milliseconds. */
export function duration(help: string, o: { default?: number; defaultText?: string } = {}): Opt<number | undefined> {
  return { kind: 'value', help, arg: 'T', defaultText: o.defaultText, read: (raw, flag) => { const s = str(raw, flag); return s === undefined ? o.default : parseDuration(s, flag); } };
}

/**
 * A file the command will write. Checked before any work: its directory exists and is writable, and it is not a
 * directory. With mkdir, a missing directory is created instead (the lab's own default paths under out/).
 */
export function outFile(help: string, o: { default?: string; defaultText?: string; mkdir?: boolean; arg?: string } = {}): Opt<string | undefined> {
  return {
    kind: 'value', help, arg: o.arg ?? 'FILE', defaultText: o.defaultText ?? o.default, output: true,
    read: (raw, flag) => { const s = str(raw, flag) ?? o.default; if (s !== undefined) checkOutputFile(s, flag, o.mkdir === true || s === o.default); return s; },
  };
}

/** A directory the command will write files into: created if missing, its parent must exist. */
export function outDir(help: string): Opt<string | undefined> {
  return { kind: 'value', help, arg: 'DIR', output: true, read: (raw, flag) => { const s = str(raw, flag); if (s !== undefined) checkOutputDir(s, flag); return s; } };
}

// node's parseArgs reads "--seed -1" as a missing value followed by an unknown short option and says "argument is
// ambiguous"; a negative number after a value option is that option's value (validation then says what is wrong).
function joinNegativeValues(argv: string[], options: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.kind === 'value' && next !== undefined && /^-\.?\d/.test(next)) { out.push(`${a}=${next}`); i++; }
    else out.push(a);
  }
  return out;
}

const WIDTH = 118;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

export function helpText<T extends OptionTable>(spec: CommandSpec<T>): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ''}--${name}${o.kind === 'value' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    return [left, `${o.help}${o.defaultText !== undefined ? ` (default ${o.defaultText})` : ''}`];
  });
  rows.push(['-h, --help', 'this text']);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return [`usage: ${spec.program ?? 'vpci-lab'} ${spec.usage}`, '', spec.description, '', ...rows.map(([l, r]) => `  ${l.padEnd(w)}${wrap(r, WIDTH - w - 2).join('\n' + ' '.repeat(w + 2))}`),
    ...(spec.footer ? ['', spec.footer] : [])].join('\n');
}

/** Parse and validate argv against the table; null when --help was asked for (the help is printed). */
export function parseCommand<T extends OptionTable>(spec: CommandSpec<T>, argv: string[]): { values: Values<T>; positionals: string[] } | null {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) config[name] = { type: o.kind === 'flag' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let raw;
  try {
    raw = parseArgs({ args: joinNegativeValues(argv, spec.options), options: config, strict: true, allowPositionals: spec.positionals !== undefined });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
  const given = raw.values as Record<string, string | boolean | string[] | undefined>;
  if (given.help) { process.stdout.write(helpText(spec) + '\n'); return null; }
  const p = spec.positionals;
  if (p && (raw.positionals.length < p.min || raw.positionals.length > p.max)) throw new UsageError(p.what);
  const values = {} as Record<string, unknown>;
  // Plain values first, output paths last: a bad number is reported before a file is touched.
  const entries = Object.entries(spec.options);
  for (const [name, o] of [...entries.filter(([, o]) => !o.output), ...entries.filter(([, o]) => o.output)]) values[name] = o.read(given[name], `--${name}`);
  distinctOutputs(entries.filter(([, o]) => o.output && o.kind === 'value' && o.arg === 'FILE').map(([name]) => [`--${name}`, values[name] as string | undefined]));
  return { values: values as Values<T>, positionals: raw.positionals };
}
