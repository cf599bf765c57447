// The strategy registry: the generations, the built-in patches in the order reports show them, and patch files
// loaded by path. Every thread resolves the same spec (a built-in name or a file: URL) to the same table.

import { pathToFileURL, fileURLToPath } from 'node:url';
import { resolve as resolvePath, isAbsolute } from 'node:path';
import { installModel } from '../xen/fn.js';
import type { Generation } from '../xen/generation.js';
import { l21 } from '../xen/l21/index.js';
import { head } from '../xen/head/index.js';
import { checkPatch, buildTable, patchFiles, PatchError, type Patch, type Strategy } from './patch.js';
import { ensureModelEntry } from './model-entry.js';
import { syntaxErrorAt, frameIn, displayPath } from './user-file.js';
import { selectDeviceSource } from './devices.js';
export { displayPath, shellWord, syntaxErrorAt, frameIn } from './user-file.js';
import { baseline } from './baseline.js';
import { cancel } from './cancel.js';
import { cancelAll } from './cancel-all.js';
import { pcidevs } from './pcidevs.js';
import { rwlockTrylock } from './rwlock-trylock.js';
import { upstream } from './upstream.js';
import { upstreamDrain } from './upstream-drain.js';

export type { Strategy, Patch } from './patch.js';
export { PatchError, PATCH_FIELDS } from './patch.js';

export const GENERATIONS: Readonly<Record<string, Generation>> = { l21, head };

const BUILTIN_PATCHES: readonly Patch[] = [baseline, cancel, cancelAll, pcidevs, rwlockTrylock, upstream, upstreamDrain];

/** A spec names a file when it looks like a path or a URL rather than a strategy name. */
export const isPatchPath = (spec: string): boolean => /[/\\]/.test(spec) || /\.(m?js|cjs)$/.test(spec) || spec.startsWith('file:');

const resolved = new Map<string, Strategy>();

function resolveChain(p: Patch, spec: string, file: string | undefined, lookup: (base: string) => Strategy): Strategy {
  const gen = GENERATIONS[p.base];
  const under = gen ? undefined : lookup(p.base);
  const generation = gen ?? under!.generation;
  checkPatch(p, file ? `${file}` : `strategy ${p.name}`, generation);
  return {
    name: p.name,
    summary: p.summary ?? '',
    source: p.source ?? '',
    generation,
    chain: [...(under?.chain ?? []), p],
    spec,
    file,
  };
}

const builtinLookup = (base: string): Strategy => {
  const s = resolved.get(base);
  if (!s) throw new PatchError(`unknown base '${base}' (known: ${[...Object.keys(GENERATIONS), ...STRATEGY_NAMES].join(', ')})`);
  return s;
};
for (const p of BUILTIN_PATCHES) resolved.set(p.name, resolveChain(p, p.name, undefined, builtinLookup));

export const STRATEGY_NAMES: readonly string[] = BUILTIN_PATCHES.map((p) => p.name);
export const STRATEGIES: readonly Strategy[] = STRATEGY_NAMES.map((n) => resolved.get(n)!);

// A generation by name is the unpatched model (`l21` is what `baseline` runs, `head` what `upstream` runs), so a
// machine can be booted by generation name; the reports' strategy lists stay the built-ins.
for (const g of Object.values(GENERATIONS)) {
  resolved.set(g.name, { name: g.name, summary: `the ${g.name} model, unpatched`, source: '', generation: g, chain: [], spec: g.name });
}

/** Every strategy name this thread knows: built-ins, generations, and the patch files loaded so far. */
export function knownStrategyNames(): string[] {
  return [...new Set([...resolved.keys()].filter((k) => !k.startsWith('file:')))];
}

export function strategyByName(name: string): Strategy | undefined { return isPatchPath(name) ? undefined : resolved.get(name); }

/** The file: URL a path spec stands for (relative paths from `from`, default the working directory). */
export function patchUrl(spec: string, from?: string): string {
  if (spec.startsWith('file:')) return spec;
  return pathToFileURL(isAbsolute(spec) ? spec : resolvePath(from ?? process.cwd(), spec)).href;
}

/** Load a strategy by name or patch file (and the files it is based on). Throws PatchError with one line. */
export async function loadStrategy(spec: string, from?: string): Promise<Strategy> {
  if (!isPatchPath(spec)) {
    const s = resolved.get(spec);
    if (!s) throw new PatchError(`unknown strategy '${spec}' (known: ${STRATEGY_NAMES.join(', ')}, or a patch file ./x.mjs)`);
    return s;
  }
  const url = patchUrl(spec, from);
  const have = resolved.get(url);
  if (have) return have;
  const file = fileURLToPath(url);
  let mod: { default?: unknown };
  try {
    ensureModelEntry();
    mod = await import(url) as { default?: unknown };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const first = String(err?.message ?? e).split('\n')[0];
    const why = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(file) ? 'no such file'
      : (e instanceof SyntaxError && syntaxErrorAt(file, first)) || first;
    throw new PatchError(`patch ${spec} does not load: ${why}`);
  }
  // A patch is an object, or a function given the model API (a file that wants no import at all).
  let exported = mod.default;
  if (typeof exported === 'function') exported = (exported as (api: unknown) => unknown)(await import('../model.js'));
  const p = checkPatch(exported, `patch ${spec}`);
  patchFiles.set(p, file);
  let under: Strategy | undefined;
  if (!GENERATIONS[p.base]) {
    under = isPatchPath(p.base) ? await loadStrategy(p.base, resolvePath(file, '..')) : resolved.get(p.base);
    if (!under) throw new PatchError(`patch ${spec}: unknown base '${p.base}' (known: ${[...Object.keys(GENERATIONS), ...STRATEGY_NAMES].join(', ')}, or a patch file)`);
  }
  const s = resolveChain(p, url, file, () => under!);
  // Reports and scenario expectations know a patch by its name: it must not shadow another strategy.
  const named = resolved.get(p.name);
  if (named && named.spec !== url) throw new PatchError(`patch ${spec} is named '${p.name}', like ${named.file ? `the patch ${named.file}` : 'a built-in strategy'}: rename it`);
  // Built now, so a replacement that is not (prev) => fn fails at load, in the main thread, as one line.
  const ids: string[] = [];
  tables.set(s.spec, buildTable(s, ids));
  guardIds.set(s.spec, ids);
  resolved.set(url, s);
  resolved.set(p.name, s);
  return s;
}

const guardIds = new Map<string, string[]>();

/** What guarded id `id` (lib/strategy/guard.ts) of a loaded strategy is: "vpci_read (spins, /path/spins.mjs)". */
export function guardLabel(spec: string, id: number): string | undefined {
  return id > 0 ? guardIds.get(loadedStrategy(spec).spec)?.[id - 1] : undefined;
}

/** The file: URLs of every patch file loaded in this thread. */
export function patchFileUrls(): string[] {
  return [...resolved.keys()].filter((k) => k.startsWith('file:'));
}

/** A strategy already loaded in this thread, by spec or name (built-ins always are). */
export function loadedStrategy(spec: string): Strategy {
  const s = resolved.get(isPatchPath(spec) ? patchUrl(spec) : spec);
  if (!s) throw new PatchError(`strategy '${spec}' is not loaded in this thread`);
  return s;
}

/** Parse "a,b" or "all" into strategies; every name and file is checked before any work starts. */
export async function parseStrategies(list: string): Promise<Strategy[]> {
  const specs = list === 'all' ? [...STRATEGY_NAMES] : list.split(',').map((s) => s.trim());
  // A stray comma is a typo, not a request to run fewer strategies (cli/args.ts nameList refuses it the same way).
  if (specs.some((s) => s === '')) throw new PatchError(`the strategy list has an empty item in '${list}' (a comma-separated list, nothing between two commas or at an end)`);
  const out: Strategy[] = [];
  for (const spec of specs) out.push(await loadStrategy(spec));
  return out;
}

const tables = new Map<string, ReturnType<typeof buildTable>>();

/** Make this thread run `spec`'s model: the table of its generation with its patches applied. */
export function installStrategy(spec: string): Strategy {
  const s = loadedStrategy(spec);
  let t = tables.get(s.spec);
  if (!t) { t = buildTable(s); tables.set(s.spec, t); }
  installModel(t, s.generation);
  selectDeviceSource(s.chain);
  return s;
}

/**
 * A JavaScript error thrown in a loaded patch file's code, as one line naming the patch, its file and line, and
 * `during` (what the lab was doing); undefined when no patch file is on the error's stack.
 */
export function patchThrew(e: unknown, during: string): string | undefined {
  const err = e as Error | undefined;
  if (!(err instanceof Error) || ['ModelCrash', 'TrialStopped'].includes(err.name)) return undefined;
  const f = frameIn(err.stack, patchFileUrls());
  if (!f) return undefined;
  return `patch ${loadedStrategy(f.url).name} threw ${err.name}: ${err.message.split('\n')[0]} (at ${displayPath(fileURLToPath(f.url))}:${f.line}) ${during}`;
}
