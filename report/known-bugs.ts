// Known bugs of a generation: failures a reader should not take for a finding of the lab, each with the Xen lines
// it lives in. A failure row in the terminal, JUnit and the HTML report says either which known bug it is or that
// it is a finding. Matching is hunt's (lib/explore/hunt/dedup.ts): same outcome, same function if one is named,
// and the named race sites passed in order. The scenario judge may later carry its own notion per scenario; this
// is the generation-wide list that stress (which has no scenario) needs.

import type { Outcome } from '../lib/mem/crash.js';
import { groupOf, matches, type FailureLike, type KnownGroup } from '../lib/explore/hunt/dedup.js';
import { strategyByName } from '../lib/strategy/index.js';

export interface KnownBug extends KnownGroup {
  /** Short name for a table row. */
  name: string;
  /** The generations whose code has it: l21 (late 2021) and head. */
  generations: string[];
  /** Where it is in Xen. */
  xen: string;
  /** The built-in scenario that shows it alone. */
  scenario: string;
}

export const KNOWN_BUGS: readonly KnownBug[] = [
  { name: 'defer_map FIXME', generations: ['l21', 'head'], outcome: 'stale-mapping', sites: ['defer_map'], scenario: 'double-modify',
    xen: 'header.c defer_map (late 2021 lines 189-204, HEAD 287-306): a second operation on a device whose BAR map is still deferred; its FIXME stands at HEAD' },
  { name: 'defer_map FIXME (HEAD assert)', generations: ['head'], outcome: 'assert', where: 'modify_bars', scenario: 'crash-path-2',
    xen: 'header.c:357 ASSERT(rangeset_is_empty(bar->mem)) in modify_bars: a second modify_bars meets BARs whose rangesets still hold the deferred request' },
  { name: 'MSI-X table left on the list (c14aea137e)', generations: ['l21'], outcome: 'use-after-free', where: 'msix_find', scenario: 'msix-race',
    xen: 'vpci.c vpci_remove_device frees pdev->vpci->msix without taking it off d->arch.hvm.msix_tables (fixed by c14aea137e, Oct 2022)' },
  { name: 'MSI-X table left on the list (c14aea137e)', generations: ['l21'], outcome: 'use-after-free', where: 'init_msix', scenario: 'msix-race',
    xen: 'the same freed table, written by the next init_msix\'s list_add (fixed by c14aea137e, Oct 2022)' },
];

/** The generation a strategy runs (built-in names; a patch file's is unknown here). */
export function generationOf(strategy: string): string | undefined {
  return strategyByName(strategy)?.generation.name;
}

/** The known bug this failure is, under this strategy's generation, or undefined (a finding). */
export function knownBugOf(strategy: string, f: Partial<FailureLike> & { outcome: Outcome }): KnownBug | undefined {
  const gen = generationOf(strategy);
  if (!gen) return undefined;
  const g = groupOf({ outcome: f.outcome, where: f.where ?? '', message: f.message ?? '', events: f.events ?? [], crashCpu: f.crashCpu });
  // groupOf names a stale mapping by what the scan saw; known stale mappings are told apart by their sites.
  const where = f.where ?? '';
  return KNOWN_BUGS.find((k) => k.generations.includes(gen) && k.outcome === f.outcome
    && (k.where === undefined || k.where === where) && matches({ ...k, where: undefined }, g));
}

const genName = (strategy: string): string => (generationOf(strategy) === 'head' ? 'HEAD' : 'late 2021');

/**
 * What a failure row says of itself: "known bug of late 2021: defer_map FIXME" or "finding". A free-running
 * trial's trace is only each CPU's tail (`partial`): when a known bug would match but for sites the tail may have
 * lost, the row says it cannot tell rather than call it a finding.
 */
export function provenance(strategy: string, f: Partial<FailureLike> & { outcome: Outcome; partial?: boolean }): string {
  const k = knownBugOf(strategy, f);
  if (k) return `known bug of ${genName(strategy)}: ${k.name}`;
  const gen = generationOf(strategy);
  const maybe = f.partial && gen ? KNOWN_BUGS.find((b) => b.generations.includes(gen) && b.outcome === f.outcome && b.sites && (b.where === undefined || b.where === f.where)) : undefined;
  return maybe ? `unclear: the ${maybe.name} (known bug of ${genName(strategy)}) if the trial passed ${maybe.sites!.join(', ')}, which its kept trace does not reach` : 'finding';
}

/** The known bugs among these rows, each once, with its Xen lines: the legend under a table. */
export function knownLegend(bugs: Array<KnownBug | undefined>): string[] {
  const seen = new Set<string>();
  return bugs.flatMap((k) => (k && !seen.has(k.xen) && seen.add(k.xen) ? [`${k.name}: ${k.xen} (scenario ${k.scenario})`] : []));
}
