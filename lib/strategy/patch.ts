// A patch: what a strategy is. It names the model it patches (a generation, `l21` or `head`, or another
// strategy) and replaces model functions by their Xen names. A replacement is given the function it replaces, as
// shimmer-style wrappers are (`replace: { vpci_remove_device: (prev) => (pdev) => { ...; return prev(pdev); } }`),
// so a patch reads like the diff it models: the changed lines, then the old code.

import type { ModelFnName, ModelTable, Patch } from '../xen/fn.js';
export type { Patch, Replacements } from '../xen/fn.js';
import { MODEL_FN_NAMES } from '../xen/fn.js';
import type { Generation } from '../xen/generation.js';
import { checkExpectations, closest } from './expect.js';
import { guarded } from './guard.js';

/** A patch resolved down to its generation: what a machine runs. */
export interface Strategy {
  readonly name: string;
  readonly summary: string;
  readonly source: string;
  readonly generation: Generation;
  /** Patches from the one nearest the generation to this strategy's own. */
  readonly chain: readonly Patch[];
  /** How to find it again in another thread: a built-in name or a file: URL. */
  readonly spec: string;
  /** Set for a strategy loaded from a file. */
  readonly file?: string;
}

export class PatchError extends Error {}

const KNOWN = new Set<string>(MODEL_FN_NAMES);

/** Every field a patch may have (docs/scenarios-and-patches.md). */
export const PATCH_FIELDS = ['name', 'base', 'summary', 'description', 'source', 'replace', 'expect'] as const;

/** The file each patch object came from (patches from files only: their replacements are guarded, lib/strategy/guard.ts). */
export const patchFiles = new WeakMap<Patch, string>();

/** Check a patch object's shape, and its names against the generation it applies to once known; throws PatchError. */
export function checkPatch(p: unknown, what: string, gen?: Generation): Patch {
  if (typeof p !== 'object' || p === null) throw new PatchError(`${what}: a patch must be an object (export default { name, base, replace })`);
  const o = p as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if ((PATCH_FIELDS as readonly string[]).includes(k)) continue;
    const near = closest(k, PATCH_FIELDS);
    throw new PatchError(`${what}: unknown field '${k}'${near ? ` (did you mean '${near}'?)` : ''}; a patch has ${PATCH_FIELDS.join(', ')}`);
  }
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(o.name)) throw new PatchError(`${what}: 'name' must be a word (letters, digits, - _ .)`);
  if (typeof o.base !== 'string' || o.base === '') throw new PatchError(`${what}: 'base' must name l21, head or a strategy`);
  for (const k of ['summary', 'description', 'source'] as const) if (o[k] !== undefined && typeof o[k] !== 'string') throw new PatchError(`${what}: '${k}' must be a string`);
  if (o.replace !== undefined && (typeof o.replace !== 'object' || o.replace === null)) throw new PatchError(`${what}: 'replace' must be an object of functions`);
  for (const [k, f] of Object.entries((o.replace ?? {}) as Record<string, unknown>)) {
    if (gen && (!KNOWN.has(k) || !(k in gen.fns))) {
      const near = closest(k, Object.keys(gen.fns));
      throw new PatchError(`${what}: replaces '${k}', which the ${gen.name} model does not have${near ? ` (did you mean '${near}'?)` : ''}`);
    }
    if (typeof f !== 'function') throw new PatchError(`${what}: replace.${k} must be a function (prev) => newFunction`);
    if (f.length > 1) throw new PatchError(`${what}: replace.${k} takes ${f.length} parameters: a replacement is (prev) => (...Xen's arguments) => ..., given the function it replaces`);
  }
  if (o.expect !== undefined) {
    const problem = checkExpectations(o.expect, 'scenario');
    if (problem) throw new PatchError(`${what}: ${problem}`);
  }
  return p as Patch;
}

/** The generation's table with each patch of the chain applied in order; `ids` gets, for guarded id i, ids[i - 1]. */
export function buildTable(s: Strategy, ids?: string[]): ModelTable {
  const t: Record<string, unknown> = { ...s.generation.fns };
  let id = 0;
  for (const p of s.chain) {
    const file = patchFiles.get(p);
    for (const [k, make] of Object.entries(p.replace ?? {}) as Array<[ModelFnName, (prev: unknown) => unknown]>) {
      let f: unknown;
      try { f = make(t[k]); } catch (e) {
        throw new PatchError(`patch ${file ?? p.name}: replace.${k} threw when given the function it replaces: ${String((e as Error)?.message ?? e).split('\n')[0]} (a replacement is (prev) => newFunction)`);
      }
      if (typeof f !== 'function') throw new PatchError(`patch ${file ?? p.name}: replace.${k} returned ${f === null ? 'null' : typeof f}, not a function: a replacement is (prev) => newFunction, given the function it replaces`);
      if (file) { ids?.push(`${k} (${p.name}, ${file})`); t[k] = guarded(f as (...a: never[]) => unknown, ++id); } else t[k] = f;
    }
  }
  return t as ModelTable;
}
