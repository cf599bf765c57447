// Compiling Xen's vPCI files (and the reached part of pci.c, pci-build.ts) into the lab's Node-API addon, at run
// time, from a tree on this machine (Xen's code never enters the repository). The Xen files and the lab's
// instrumented C are compiled with -fsanitize=thread so that every load and store calls the lab's callbacks
// (native/runtime.c); the runtime and the Node-API glue are not, and the link line carries no sanitizer (libtsan
// would then fail to load in Node).
//
// Every compile and the link go through compileCached (lib/cxen/source): one cache for the whole C backend, keyed
// by every input with each object's headers checked as ccache's direct mode does, so a patch to pci.c recompiles
// pci.c alone and the lab's runtime is compiled once for every tree. Xen's files are staged with their #include
// lines stripped under .cache/cc/src/<hash of their content>; a whole build is indexed by the hash of all its
// inputs (.cache/cxen/<hash>.json), so a second build of the same tree is one file read.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPINLOCK_WORDS } from '../sync/spinlock.js';
import { RWLOCK_WORDS } from '../sync/rwlock.js';
import { XEN_417, type XenRecipe } from './recipes.js';
import { PCI_C, extractPciC, pciStubs, undefinedIn, PciBuildError } from './pci-build.js';
import { compileCached, cacheDir, isXenSourceError, pruneCompileCache, touch, type CompileSource } from './source/index.js';

export type { XenRecipe } from './recipes.js';

export interface BuildRequest {
  /** A Xen tree (its top directory, holding xen/). */
  xenDir: string;
  recipe?: XenRecipe;
  /** The lab's own C files compiled like Xen's (instrumented), e.g. the controls in native/test/. */
  extra?: readonly string[];
  /** Xen's release build: ASSERT compiled out (default: debug, as the model). */
  release?: boolean;
  /** The cache's root (default: $VPCI_LAB_CACHE, else .cache at the repository's top, git-ignored). */
  cacheDir?: string;
}

/** The addon (symbols.txt beside it), its directory, the hash of every input, whether nothing was compiled. */
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
const RUNTIME = ['runtime.c', 'glue.c', 'pci-glue.c', 'napi.c', 'scan.c'];
const INSTRUMENTED = new Set(['glue.c', 'pci-glue.c']);
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

/** Bumped when how a build is made changes (not only its inputs): 2, pci.c extracted and stubbed; 3, compileCached; 4, the undefined-symbol check on every build. */
const BUILD_FORMAT = 4;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
/** Xen's own tools/tests/vpci/Makefile does the same: the lab's shim replaces every header the file includes. */
const stripIncludes = (text: string): string => text.replace(/^[ \t]*#[ \t]*include[^\n]*$/gm, '');

interface Input { rel: string; text: Buffer }

/**
 * A symbol the compiled files use and nobody defines would kill the process when first called (the dynamic
 * linker's lookup error): refuse the build naming it instead. Node-API and libc are the process's. (Xen's own
 * objects get generated stubs, pci-build.ts; this catches the lab's C.)
 */
async function noUndefined(file: string, name: string, cwd: string): Promise<void> {
  const undef = (await sh('nm', ['-D', '--undefined-only', file], cwd)).split('\n').map((l) => l.trim().split(/\s+/).pop() ?? '')
    .filter((s) => s && !/^(napi_|_ITM_|__gmon_start__|__cxa_)|@/.test(s));
  if (undef.length) throw new BuildError(`compiling Xen ${name} left ${undef.join(', ')} undefined: the lab's C runtime (native/) must supply ${undef.length > 1 ? 'them' : 'it'}`);
}

/** Write `name` into the staging directory unless it is there with this content (concurrent builds write the same). */
function stage(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return file;
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(16).slice(2)}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return file;
}

/** Xen's files with their #include lines stripped (headers under xh/), and the lab's extra files, in one directory. */
function stageSources(root: string, xen: Input[], extra: Input[]): string {
  const dir = cacheDir(path.join('cc', 'src', sha(JSON.stringify([...xen, ...extra].map((f) => [f.rel, sha(f.text)]))).slice(0, 24)), root);
  touch(dir);
  for (const f of xen) stage(dir, f.rel.endsWith('.h') ? path.join('xh', path.basename(f.rel)) : path.basename(f.rel), stripIncludes(f.text.toString()));
  for (const f of extra) stage(dir, f.rel, f.text.toString());
  return dir;
}

/** compileCached's errors (a compiler error: its first line; no compiler) and the pci.c build's, as one line. */
function oneLine(e: unknown): never {
  if (e instanceof PciBuildError || isXenSourceError(e)) throw new BuildError((e as Error).message);
  throw e;
}

/** The objects of a build: vPCI files and the lab's C, then pci.c's reached part (recipe.pciC), then the stubs. */
async function compileAll(o: { cc: string; root: string; src: string; nat: string; flags: string[]; recipe: XenRecipe; extra: Input[]; pciText?: string; entries: string }): Promise<{ objects: string[]; cached: boolean }> {
  const { nat, src } = o;
  const common = { cc: o.cc, cacheDir: o.root, includeDirs: [src, nat, nodeInclude()], link: false as const, out: '',
    flags: ['-fPIC', '-O1', '-g', '-fno-inline', '-fno-optimize-sibling-calls', '-fno-omit-frame-pointer', ...o.flags, '-include', path.join(nat, 'shim/xen-shim.h')] };
  const tsan = ['-fsanitize=thread'];
  const units: CompileSource[] = [
    ...o.recipe.sources.map((s) => ({ path: path.join(src, path.basename(s)), flags: tsan })),
    ...o.extra.map((f) => ({ path: path.join(src, f.rel), flags: tsan })),
    ...[...RUNTIME, ...(o.recipe.lab ?? [])].map((r) => ({ path: path.join(nat, r), flags: INSTRUMENTED.has(r) || (o.recipe.lab ?? []).includes(r) ? tsan : [] })),
  ];
  const first = await compileCached({ ...common, sources: units }).catch(oneLine);
  if (o.pciText === undefined) return first;
  // pci.c last: what it must define is what the others call (pci_get_pdev, pci_get_ro_map, ...).
  const wanted = await undefinedIn(first.objects);
  let part;
  try { part = extractPciC(o.pciText, o.entries, wanted); } catch (e) { oneLine(e); }
  const pciFile = stage(src, 'pci.c', stripIncludes(part.text));
  const pci = await compileCached({ ...common, sources: [{ path: pciFile, flags: [...tsan, '-include', path.join(nat, 'shim/pci-shim.h')] }] }).catch(oneLine);
  const xenObjs = [...first.objects.slice(0, o.recipe.sources.length), ...pci.objects];
  const stubs = stage(src, 'pci-stubs.c', (await pciStubs(o.cc, xenObjs, first.objects).catch(oneLine)).text);
  // No shim for the stubs: each has its own prototype.
  const stubObj = await compileCached({ cc: o.cc, cacheDir: o.root, link: false, out: '', flags: ['-fPIC', '-O1'], includeDirs: [nat], sources: [{ path: stubs }] }).catch(oneLine);
  return { objects: [...first.objects, ...pci.objects, ...stubObj.objects], cached: first.cached && pci.cached && stubObj.cached };
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
  const xen: Input[] = [...recipe.sources, ...recipe.headers].map((rel) => ({ rel, text: read(path.join(req.xenDir, rel), `not a Xen ${recipe.name} tree`) }));
  const pciC = recipe.pciC ? [{ rel: PCI_C, text: read(path.join(req.xenDir, PCI_C), `not a Xen ${recipe.name} tree`) }] : [];
  const own = [...RUNTIME, ...(recipe.lab ?? []), 'pci-entries.c', ...shimFiles(nat)].map((rel) => ({ rel, text: read(path.join(nat, rel), 'the lab\'s C runtime') }));
  const extra = (req.extra ?? []).map((p) => ({ rel: path.basename(p), text: read(p, 'C file') }));
  const flags = [`-DCX_SPIN_WORDS=${SPINLOCK_WORDS}`, `-DCX_RW_WORDS=${RWLOCK_WORDS}`, ...(recipe.defines ?? []), ...(recipe.pciC ? ['-DCX_PCI_C'] : []), ...(req.release ? ['-DCX_NDEBUG'] : [])];
  const files = Object.fromEntries([...xen, ...pciC].map((f) => [f.rel, sha(f.text)]));
  const hash = sha(JSON.stringify([BUILD_FORMAT, recipe.name, flags, recipe.linkFlags ?? [], process.version, compiler.cc, [...xen, ...pciC, ...own, ...extra].map((f) => [f.rel, sha(f.text)])])).slice(0, 16);
  const root = req.cacheDir ?? cacheDir();
  const index = path.join(cacheDir('cxen', root), `${hash}.json`);
  const known = readIndex(index);
  if (known) return { path: known, dir: path.dirname(known), hash, cached: true, files };
  const src = stageSources(root, xen, extra);
  const built = await compileAll({ cc: compiler.cc, root, src, nat, flags, recipe, extra, pciText: pciC[0]?.text.toString(), entries: own.find((f) => f.rel === 'pci-entries.c')!.text.toString() });
  const linked = await compileCached({ cc: compiler.cc, cacheDir: root, sources: [], extraObjects: built.objects, linkFlags: ['-shared', ...(recipe.linkFlags ?? [])], out: 'cxen.node' }).catch(oneLine);
  const symbols = path.join(path.dirname(linked.path), 'symbols.txt');
  await noUndefined(linked.path, recipe.name, nat);   // also on a cached link: a refused build publishes one
  if (!fs.existsSync(symbols)) stage(path.dirname(linked.path), 'symbols.txt', await sh('nm', ['--defined-only', linked.path], nat));
  stage(path.dirname(index), path.basename(index), JSON.stringify({ path: linked.path }));
  pruneCompileCache(root);
  return { path: linked.path, dir: path.dirname(linked.path), hash, cached: built.cached && linked.cached, files };
}

/** The linked addon a build's index names, while it (and its symbols) are still in the cache. */
function readIndex(index: string): string | undefined {
  try {
    const p = (JSON.parse(fs.readFileSync(index, 'utf8')) as { path?: string }).path;
    if (p && fs.existsSync(p) && fs.existsSync(path.join(path.dirname(p), 'symbols.txt'))) { touch(index); touch(path.dirname(p)); return p; }
  } catch { /* no index, or a stale one */ }
  return undefined;
}
