// compileCached: the system C compiler behind a cache keyed by every input. An object's key is the compiler's
// identity, every flag, the source's path and content; its entry records the hash of every header the compiler
// read (-MD), and is reused only while those still match (ccache's "direct mode"). A link's key is its objects'
// content, the extra objects' and every link flag. Works from the main thread and from worker threads.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, mkdirSync, utimesSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { CompileError, NO_CC, XenSourceError } from './errors.js';
import { cacheDir, readJson, tempName, writeAtomic, publish } from './cache.js';
import { fileSha, mapSha, sha256 } from './hash.js';

export interface CompileSource { path: string; flags?: string[] }
export interface CompileSpec {
  sources: CompileSource[];
  includeDirs?: string[];
  defines?: Record<string, string | number | true>;
  flags?: string[];              // for every source (per-source ones go in sources[i].flags)
  extraObjects?: string[];       // objects or archives compiled elsewhere, linked in (their content is hashed)
  linkFlags?: string[];          // e.g. ['-shared']
  out: string;                   // the linked file's name, e.g. 'xen-vpci.node'
  link?: boolean;                // false: compile only (Compiled.path is then '')
  cc?: string;                   // default $CC, else cc
  cacheDir?: string;
  jobs?: number;                 // compilers at once (default: the machine's cores, at most 4)
}
export interface Compiled {
  path: string;                       // the linked file, inside the cache (do not modify it)
  objects: string[];
  cached: boolean;                    // nothing was compiled or linked
  inputs: Record<string, string>;     // absolute path -> sha256 of every source and header the compiler read
}

interface Run { code: number | string | null; stdout: string; stderr: string }
const run = (file: string, args: string[], cwd?: string): Promise<Run> => new Promise((res) => {
  execFile(file, args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
    res({ code: err ? (err as NodeJS.ErrnoException).code ?? 1 : 0, stdout: String(stdout), stderr: String(stderr) });
  });
});

const identities = new Map<string, Promise<string>>();
/** The compiler's identity for cache keys: its version banner and target. Throws NO_CC when it is missing. */
export function compilerIdentity(cc = process.env.CC || 'cc'): Promise<string> {
  let p = identities.get(cc);
  if (!p) {
    p = (async () => {
      const v = await run(cc, ['--version']);
      if (v.code === 'ENOENT') throw new XenSourceError('no-cc', NO_CC);
      if (v.code !== 0) throw new XenSourceError('no-cc', `${NO_CC} ('${cc} --version' failed: ${(v.stderr || v.stdout).split('\n')[0]})`);
      const m = await run(cc, ['-dumpmachine']);
      return `${cc}\n${v.stdout.split('\n')[0]}\n${m.stdout.trim()}`;
    })();
    identities.set(cc, p);
    p.catch(() => identities.delete(cc));
  }
  return p;
}

/** The files a make-style dependency file (-MD) names, in order, without the target. */
export function parseDeps(text: string): string[] {
  const body = text.replace(/\\\n/g, ' ');
  const colon = body.search(/:(\s|$)/);
  const rest = colon < 0 ? '' : body.slice(colon + 1).split('\n')[0];
  return (rest.match(/(?:\\ |[^\s])+/g) ?? []).map((p) => p.replace(/\\ /g, ' '));
}

/** The first lines of the compiler's output, and the line a user needs (the first error). */
function compilerFailure(what: string, out: string): CompileError {
  const lines = out.split('\n').filter((l) => l.trim()).slice(0, 20);
  const first = lines.find((l) => /\berror\b|undefined reference|cannot find|multiple definition/i.test(l) && !/^collect2:/.test(l)) ?? lines[0] ?? 'no output';
  return new CompileError(`${what} failed: ${first.trim()}`, lines);
}

type ObjEntry = { deps: Record<string, string>; obj: string };

/** Mark an entry used now (pruneCompileCache keeps the most recently used). */
export function touch(p: string): void {
  const now = new Date();
  try { utimesSync(p, now, now); } catch { /* pruned meanwhile: it is recompiled next time */ }
}

async function compileOne(spec: CompileSpec, src: CompileSource, id: string, dir: string): Promise<{ obj: string; deps: Record<string, string>; hit: boolean }> {
  const path = resolve(src.path);
  const sha = fileSha(path);
  if (!sha) throw new XenSourceError('compile', `${src.path}: no such source file`);
  const defs = Object.entries(spec.defines ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (v === true ? `-D${k}` : `-D${k}=${v}`));
  const args = [...(spec.flags ?? []), ...(src.flags ?? []), ...defs, ...(spec.includeDirs ?? []).map((d) => `-I${resolve(d)}`)];
  const key = sha256(JSON.stringify({ v: 1, id, args, path, sha })).slice(0, 32);
  const manifest = join(dir, `${key}.json`);
  const known = readJson<ObjEntry>(manifest);
  if (known && existsSync(join(dir, known.obj)) && Object.entries(known.deps).every(([p, h]) => fileSha(p) === h)) {
    touch(manifest);
    return { obj: join(dir, known.obj), deps: known.deps, hit: true };
  }
  const tmp = tempName(join(dir, key));
  const r = await run(id.split('\n')[0], ['-c', ...args, '-MD', '-MF', `${tmp}.d`, path, '-o', `${tmp}.o`]);
  if (r.code === 'ENOENT') throw new XenSourceError('no-cc', NO_CC);
  if (r.code !== 0) { rmSync(`${tmp}.o`, { force: true }); rmSync(`${tmp}.d`, { force: true }); throw compilerFailure(`compiling ${basename(path)}`, r.stderr || r.stdout); }
  const deps: Record<string, string> = {};
  for (const p of parseDeps(readFileSync(`${tmp}.d`, 'utf8'))) { const h = fileSha(resolve(p)); if (h) deps[resolve(p)] = h; }
  rmSync(`${tmp}.d`, { force: true });
  const obj = `${key}-${mapSha(deps).slice(0, 16)}.o`;
  renameSync(`${tmp}.o`, join(dir, obj));
  writeAtomic(manifest, JSON.stringify({ deps, obj }));
  return { obj: join(dir, obj), deps, hit: false };
}

async function inPool<T, R>(items: T[], jobs: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => { while (next < items.length) { const i = next++; out[i] = await fn(items[i]); } };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return out;
}

export async function compileCached(spec: CompileSpec): Promise<Compiled> {
  const id = await compilerIdentity(spec.cc);
  const objDir = cacheDir('cc/obj', spec.cacheDir);
  const jobs = spec.jobs ?? Math.min(4, availableParallelism());
  const objs = await inPool(spec.sources, jobs, (s) => compileOne(spec, s, id, objDir));
  const inputs: Record<string, string> = {};
  for (const o of objs) Object.assign(inputs, o.deps);
  const objects = objs.map((o) => o.obj);
  if (spec.link === false) return { path: '', objects, cached: objs.every((o) => o.hit), inputs };

  const extra = (spec.extraObjects ?? []).map((p) => {
    const h = fileSha(resolve(p));
    if (!h) throw new XenSourceError('compile', `${p}: no such object file`);
    return [resolve(p), h] as const;
  });
  const key = sha256(JSON.stringify({ v: 1, id, objs: objects.map((o) => fileSha(o)), extra, flags: spec.linkFlags ?? [], out: spec.out })).slice(0, 32);
  const dir = join(cacheDir('cc/link', spec.cacheDir), key);
  const path = join(dir, spec.out);
  if (existsSync(path)) { touch(dir); return { path, objects, cached: objs.every((o) => o.hit), inputs }; }
  const tmp = tempName(dir);
  mkdirSync(tmp, { recursive: true });
  const r = await run(id.split('\n')[0], ['-o', join(tmp, spec.out), ...objects, ...extra.map(([p]) => p), ...(spec.linkFlags ?? [])]);
  if (r.code !== 0) { rmSync(tmp, { recursive: true, force: true }); throw compilerFailure(`linking ${spec.out}`, r.stderr || r.stdout); }
  publish(tmp, dir);
  return { path, objects, cached: false, inputs };
}
