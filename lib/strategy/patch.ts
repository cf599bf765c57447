// A patch: what a strategy is. It names the model it patches (a generation, `l21` or `head`, or another
// strategy) and replaces model functions by their Xen names. A replacement is given the function it replaces, as
// shimmer-style wrappers are (`replace: { vpci_remove_device: (prev) => (pdev) => { ...; return prev(pdev); } }`),
// so a patch reads like the diff it models: the changed lines, then the old code.

import type { ModelFnName, ModelTable, Patch } from '../xen/fn.js';
export type { Patch, Replacements } from '../xen/fn.js';
import { MODEL_FN_NAMES } from '../xen/fn.js';
import type { Generation } from '../xen/generation.js';

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

/** Check a patch object's shape, and its names against the generation it applies to once known; throws PatchError. */
export function checkPatch(p: unknown, what: string, gen?: Generation): Patch {
  if (typeof p !== 'object' || p === null) throw new PatchError(`${what}: a patch must be an object (export default { name, base, replace })`);
  const o = p as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(o.name)) throw new PatchError(`${what}: 'name' must be a word (letters, digits, - _ .)`);
  if (typeof o.base !== 'string' || o.base === '') throw new PatchError(`${what}: 'base' must name l21, head or a strategy`);
  if (o.replace !== undefined && (typeof o.replace !== 'object' || o.replace === null)) throw new PatchError(`${what}: 'replace' must be an object of functions`);
  for (const [k, f] of Object.entries((o.replace ?? {}) as Record<string, unknown>)) {
    if (gen && (!KNOWN.has(k) || !(k in gen.fns))) throw new PatchError(`${what}: replaces '${k}', which the ${gen.name} model does not have`);
    if (typeof f !== 'function') throw new PatchError(`${what}: replace.${k} must be a function (prev) => newFunction`);
  }
  return p as Patch;
}

/** The generation's table with each patch of the chain applied in order. */
export function buildTable(s: Strategy): ModelTable {
  const t: Record<string, unknown> = { ...s.generation.fns };
  for (const p of s.chain) {
    for (const [k, make] of Object.entries(p.replace ?? {}) as Array<[ModelFnName, (prev: unknown) => unknown]>) {
      const f = make(t[k]);
      if (typeof f !== 'function') throw new PatchError(`patch ${p.name}: replace.${k} did not return a function`);
      t[k] = f;
    }
  }
  return t as ModelTable;
}
