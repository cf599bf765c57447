// Compiling Xen's vPCI files into the lab's Node-API addon, at run time, from a tree on this machine (Xen's code
// never enters the repository). The Xen files and the lab's control files are compiled with -fsanitize=thread so
// that every load and store calls the lab's callbacks (native/runtime.c); the lab's runtime and the addon glue are
// not, and the link line carries no sanitizer (libtsan would then fail to load in Node). The result is cached by
// a hash of every input, so a second build of the same tree is a lookup.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPINLOCK_WORDS } from '../sync/spinlock.js';
import { RWLOCK_WORDS } from '../sync/rwlock.js';
import { XEN_417, type XenRecipe } from './recipes.js';

export type { XenRecipe } from './recipes.js';

export interface BuildRequest {
  /** A Xen tree (its top directory, holding xen/). */
  xenDir: string;
  recipe?: XenRecipe;
  /** The lab's own C files compiled like Xen's (instrumented), e.g. the controls in native/test/. */
  extra?: readonly string[];
  /** Xen's release build: ASSERT compiled out (default: debug, as the model). */
  release?: boolean;
  /** Where builds are cached (default: .cache/cxen at the repository's top, git-ignored). */
  cacheDir?: string;
}

export interface Built { path: string; dir: string; hash: string; cached: boolean; files: Record<string, string> }
/** Why nothing was built, in one line (no compiler, a file missing, the compiler's first error lines). */
export class BuildError extends Error { constructor(m: string) { super(m); this.name = 'BuildError'; } }

const here = path.dirname(fileURLToPath(import.meta.url));
/** native/ at the repository's top, from dist/lib/cxen or lib/cxen. */
export function nativeDir(): string {
  for (const rel of ['../../../native', '../../native']) {
    const p = path.resolve(here, rel);
    if (fs.existsSync(path.join(p, 'runtime.c'))) return p;
  }
  throw new BuildError('native/ (the C runtime) not found next to the lab');
}

/** The lab's C: glue.c builds C's own structs on the heap, so it is instrumented like Xen's files; the rest is not. */
const RUNTIME = ['runtime.c', 'glue.c', 'napi.c'];
const INSTRUMENTED = new Set(['glue.c']);
/** Every header under native/shim/ is an input (a generation's shim may include another). */
const shimFiles = (nat: string): string[] => ['cx.h', ...fs.readdirSync(path.join(nat, 'shim')).sort().map((f) => `shim/${f}`)];

function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 8 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolve(String(stdout));
    });
  });
}

/** The compiler, or the one-line reason there is none (the tests skip with it; the CLI exits 2 with it). */
export async function findCompiler(): Promise<{ cc: string } | { missing: string }> {
  const cc = process.env.CC || 'cc';
  try { await sh(cc, ['--version'], process.cwd()); return { cc }; } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { missing: code === 'ENOENT' ? `no C compiler ('${cc}' not found): the C backend needs one` : `'${cc}' does not run: ${(e as Error).message.split('\n')[0]}` };
  }
}

function nodeInclude(): string {
  const d = path.resolve(path.dirname(process.execPath), '..', 'include', 'node');
  if (!fs.existsSync(path.join(d, 'node_api.h'))) throw new BuildError(`Node's headers not found (${d}/node_api.h)`);
  return d;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
/** Xen's own tools/tests/vpci/Makefile does the same: the lab's shim replaces every header the file includes. */
const stripIncludes = (text: string): string => text.replace(/^[ \t]*#[ \t]*include[^\n]*$/gm, '');

/**
 * A symbol the compiled files use and nobody defines would kill the process when first called (the dynamic
 * linker's lookup error): refuse the build naming it instead. Node-API and libc are the process's.
 */
async function noUndefined(file: string, name: string, cwd: string): Promise<void> {
  const undef = (await sh('nm', ['-D', '--undefined-only', file], cwd)).split('\n').map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((s) => s && !/^(napi_|_ITM_|__gmon_start__|__cxa_)|@/.test(s));
  if (undef.length) throw new BuildError(`compiling Xen ${name} left ${undef.join(', ')} undefined: the lab's C runtime (native/) must supply ${undef.length > 1 ? 'them' : 'it'}`);
}

/** Compile (or find in the cache) the addon for a tree. Throws BuildError with one line on failure. */
export async function buildAddon(req: BuildRequest): Promise<Built> {
  const compiler = await findCompiler();
  if ('missing' in compiler) throw new BuildError(compiler.missing);
  const recipe = req.recipe ?? XEN_417;
  const nat = nativeDir();
  const read = (p: string, what: string): Buffer => {
    try { return fs.readFileSync(p); } catch { throw new BuildError(`${what}: ${p} not found`); }
  };
  const xen = [...recipe.sources, ...recipe.headers].map((rel) => ({ rel, text: read(path.join(req.xenDir, rel), `not a Xen ${recipe.name} tree`) }));
  const runtime = [...RUNTIME, ...(recipe.lab ?? [])];
  const own = [...runtime, ...shimFiles(nat)].map((rel) => ({ rel, text: read(path.join(nat, rel), 'the lab\'s C runtime') }));
  const extra = (req.extra ?? []).map((p) => ({ rel: path.basename(p), text: read(p, 'C file') }));
  const flags = [`-DCX_SPIN_WORDS=${SPINLOCK_WORDS}`, `-DCX_RW_WORDS=${RWLOCK_WORDS}`, ...(recipe.defines ?? []), ...(req.release ? ['-DCX_NDEBUG'] : [])];
  const files = Object.fromEntries(xen.map((f) => [f.rel, sha(f.text)]));
  const hash = sha(JSON.stringify([recipe.name, flags, recipe.linkFlags ?? [], process.version, [...xen, ...own, ...extra].map((f) => [f.rel, sha(f.text)])])).slice(0, 16);
  const cache = req.cacheDir ?? path.resolve(nat, '..', '.cache', 'cxen');
  const dir = path.join(cache, hash);
  const out = path.join(dir, 'cxen.node');
  if (fs.existsSync(out)) return { path: out, dir, hash, cached: true, files };
  const work = `${dir}.tmp${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'xh'), { recursive: true });
  for (const f of xen) {
    const dest = f.rel.endsWith('.h') ? path.join(work, 'xh', path.basename(f.rel)) : path.join(work, path.basename(f.rel));
    fs.writeFileSync(dest, stripIncludes(f.text.toString()));
  }
  for (const f of extra) fs.writeFileSync(path.join(work, f.rel), f.text);
  const common = ['-fPIC', '-O1', '-g', '-fno-inline', '-fno-optimize-sibling-calls', '-fno-omit-frame-pointer', ...flags,
    '-I', work, '-I', nat, '-include', path.join(nat, 'shim/xen-shim.h')];
  const units = [
    ...recipe.sources.map((s) => ({ src: path.join(work, path.basename(s)), tsan: true })),
    ...extra.map((f) => ({ src: path.join(work, f.rel), tsan: true })),
    ...runtime.map((r) => ({ src: path.join(nat, r), tsan: INSTRUMENTED.has(r) || (recipe.lab ?? []).includes(r) })),
  ];
  const objs: string[] = [];
  try {
    await Promise.all(units.map(async (u, i) => {
      const obj = path.join(work, `${i}-${path.basename(u.src, '.c')}.o`);
      objs[i] = obj;
      await sh(compiler.cc, [...common, ...(u.tsan ? ['-fsanitize=thread'] : []), '-I', nodeInclude(), '-c', u.src, '-o', obj], work);
    }));
    await sh(compiler.cc, ['-shared', '-o', path.join(work, 'cxen.node'), ...objs, ...(recipe.linkFlags ?? [])], work);
    const syms = await sh('nm', ['--defined-only', path.join(work, 'cxen.node')], work);
    fs.writeFileSync(path.join(work, 'symbols.txt'), syms);
    await noUndefined(path.join(work, 'cxen.node'), recipe.name, work);
  } catch (e) {
    if (e instanceof BuildError) throw e;
    const err = (e as { stderr?: string }).stderr ?? (e as Error).message;
    const lines = err.split('\n').filter((l) => /error|undefined reference/.test(l)).slice(0, 3);
    throw new BuildError(`compiling Xen ${recipe.name} failed: ${(lines.length ? lines : err.split('\n').slice(0, 2)).join(' | ').replaceAll(work + '/', '')}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(work, dir);
  return { path: out, dir, hash, cached: false, files };
}
