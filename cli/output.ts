// Output files: checked before any work starts (a bad path is a usage error, exit 2), written after the results
// are printed; a write that still fails keeps the results on the terminal, says what failed, and the command
// exits 1 (stress/exit.ts) instead of dying with a stack trace.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './args.js';

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'ENOENT' ? 'no such directory' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied'
    : err.code === 'ENOTDIR' ? 'a path component is not a directory' : err.code === 'EROFS' ? 'read-only file system' : err.code === 'ENOSPC' ? 'no space left on device' : err.code === 'EISDIR' ? 'is a directory' : String(err.message ?? e);
}

function checkDirWritable(dir: string, flag: string, what: string): void {
  let st;
  try { st = fs.statSync(dir); } catch (e) { throw new UsageError(`${flag} ${what}: directory '${dir}' does not exist`); }
  if (!st.isDirectory()) throw new UsageError(`${flag} ${what}: '${dir}' is not a directory`);
  try { fs.accessSync(dir, fs.constants.W_OK); } catch (e) { throw new UsageError(`${flag} ${what}: cannot write in '${dir}' (${reason(e)})`); }
}

/** The file's directory exists (or, with mkdir, is created) and is writable; the file, if present, is a writable file. */
export function checkOutputFile(file: string, flag: string, mkdir = false): void {
  const dir = path.dirname(path.resolve(file));
  if (mkdir) {
    try { fs.mkdirSync(dir, { recursive: true }); } catch (e) { throw new UsageError(`${flag} ${file}: cannot create '${dir}' (${reason(e)})`); }
  }
  checkDirWritable(dir, flag, file);
  let st;
  try { st = fs.statSync(file); } catch { return; }
  if (st.isDirectory()) throw new UsageError(`${flag} ${file}: is a directory`);
  try { fs.accessSync(file, fs.constants.W_OK); } catch (e) { throw new UsageError(`${flag} ${file}: cannot write (${reason(e)})`); }
}

/** The directory exists and is writable, or its parent does and it can be created. */
export function checkOutputDir(dir: string, flag: string): void {
  const abs = path.resolve(dir);
  if (fs.existsSync(abs)) { checkDirWritable(abs, flag, dir); return; }
  checkDirWritable(path.dirname(abs), flag, dir);
}

/** Collects the writes that failed at the end, so the command can report them all and exit 1. */
export class Outputs {
  readonly failed: string[] = [];
  readonly written: string[] = [];

  /** Write one file (creating its directory); false, with the failure noted on stderr, when it cannot be written. */
  write(file: string, data: string | (() => string)): boolean {
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.writeFileSync(file, typeof data === 'string' ? data : data());
      this.written.push(file);
      return true;
    } catch (e) {
      this.fail(file, e);
      return false;
    }
  }

  /** Append to a file written as the run goes (JSON lines); the first failure is reported, later ones are not. */
  append(file: string, line: string): boolean {
    if (this.failed.includes(file)) return false;
    try { fs.appendFileSync(file, line); return true; } catch (e) { this.fail(file, e); return false; }
  }

  fail(file: string, e: unknown): void {
    this.failed.push(file);
    process.stderr.write(`vpci-lab: could not write ${file}: ${reason(e)} (the results above are complete)\n`);
  }
}

/** A name made from a scenario or strategy name, safe as one path component: `x/../../tmp/pwned` -> `x_.._.._tmp_pwned`. */
export function safeName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 100);
  return t || '_';
}

// One stamp per process: a command's default outputs are named for its run, so two runs (or two shards on one
// machine) never replace each other's report.
const STAMP = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}-${process.pid}`;

/** The default path of an output under out/: out/<stem>-<UTC date-time>-<pid>.<ext>, the stem made safe. */
export function defaultOut(stem: string, ext = 'html'): string {
  return path.join('out', `${safeName(stem)}-${STAMP}.${ext}`);
}

/** The default directory of a run's outputs (hunt's findings): out/<stem>-<UTC date-time>-<pid>. */
export function defaultOutDir(stem: string): string {
  return path.join('out', `${safeName(stem)}-${STAMP}`);
}

/** How --help shows such a default. */
export const defaultOutText = (stem: string, ext = 'html'): string => `out/${stem}-<date-time>-<pid>.${ext}`;

/** Refuse (exit 2) two outputs of one run that are the same file: the later would silently replace the earlier. */
export function distinctOutputs(outputs: Array<[flag: string, file: string | undefined]>): void {
  const seen = new Map<string, string>();
  for (const [flag, file] of outputs) {
    if (file === undefined) continue;
    const abs = path.resolve(file);
    const other = seen.get(abs);
    if (other !== undefined) throw new UsageError(`${other} and ${flag} name the same file ${file}: one would overwrite the other`);
    seen.set(abs, flag);
  }
}
