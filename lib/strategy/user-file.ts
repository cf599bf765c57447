// A user's file (scenario or patch) as the lab names it back: where a syntax error is, and the path to print in a
// command line that must work again from the same directory.

import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * "file:line:column: SyntaxError: ..." for a file that does not parse. Node's import() error carries no
 * position, so the file is checked once more by `node --check`, whose report has the line and a caret.
 */
export function syntaxErrorAt(file: string, message: string): string | undefined {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const lines = (r.stderr ?? '').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${file}:`));
  const line = at >= 0 ? /:(\d+)$/.exec(lines[at])?.[1] : undefined;
  const caret = at >= 0 ? (lines[at + 2] ?? '').indexOf('^') : -1;
  // No position: the file parses, the error is another module's (a missing export of 'vpci-lab/model').
  if (!line) return undefined;
  return `${displayPath(file)}:${line}${caret >= 0 ? `:${caret + 1}` : ''}: SyntaxError: ${message}`;
}

/** A path to print for a file: relative to the working directory when under it (./x/y.mjs), else absolute. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return file;
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** A word for a shell command line: quoted when it has anything but safe characters. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The first frame of a stack that lies in one of `urls` (file: URLs): which one, and its line. */
export function frameIn(stack: string | undefined, urls: readonly string[]): { url: string; line: number } | undefined {
  for (const line of (stack ?? '').split('\n')) {
    for (const url of urls) {
      const i = line.indexOf(url + ':');
      const m = i < 0 ? null : /^:(\d+)/.exec(line.slice(i + url.length));
      if (m) return { url, line: Number(m[1]) };
    }
  }
  return undefined;
}
