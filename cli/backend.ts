// --backend c for the commands that run scenarios: compile the tree, load the C strategy, and make each scenario
// judge it with the expectations of the TypeScript strategy it stands for (--strategy, default baseline).

import { UsageError } from './args.js';
import { cBackend, CBackendError, provenanceLine, type CBackend } from '../lib/cxen/select.js';
import type { Scenario } from '../lib/scenario/scenario.js';

export interface BackendValues { backend: 'ts' | 'c'; 'xen-src'?: string; patch?: readonly string[] }

/** --patch A --patch B (a comma list inside one is split too), in order. */
const patchesOf = (v: BackendValues): string[] => (v.patch ?? []).flatMap((p) => p.split(',')).filter(Boolean);

/** The C strategy (or undefined for the TypeScript backend); bad input is a UsageError (one line, exit 2). */
export async function resolveBackend(v: BackendValues): Promise<CBackend | undefined> {
  if (v.backend !== 'c') {
    if (v['xen-src'] || patchesOf(v).length) throw new UsageError('--xen-src and --patch need --backend c');
    return undefined;
  }
  try {
    const c = await cBackend({ xenSrc: v['xen-src'], patches: patchesOf(v) });
    process.stderr.write(`${provenanceLine(c.provenance)}\n`);
    return c;
  } catch (e) {
    if (e instanceof CBackendError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * The TypeScript strategy a C build is judged as when --strategy is not given: the model's unpatched generation of
 * the tree's shape (baseline for late-2021 trees such as 4.17.5, upstream for HEAD).
 */
export function defaultJudge(c: CBackend): string { return c.provenance.generation === 'head' ? 'upstream' : 'baseline'; }

/** Judge the C build as `as`: a scenario's expectations for that strategy apply to it. */
export function judgeAs(s: Scenario, cName: string, as: string): void {
  const e = s.expect[as] ?? s.expect['*'];
  if (e) s.expect[cName] = e;
}

/** The options that rebuild the same C: ` --backend c --xen-src DIR --patch P...`. */
export function cReplayOptions(v: BackendValues): string {
  return ` --backend c${v['xen-src'] ? ` --xen-src ${v['xen-src']}` : ''}${patchesOf(v).map((p) => ` --patch ${p}`).join('')}`;
}

/** The command that replays a C-backend failure. */
export function cReplay(ref: string, v: BackendValues, as: string, schedule: string): string {
  return `vpci-lab repro ${ref}${cReplayOptions(v)} --strategy ${as} --schedule '${schedule}'`;
}
