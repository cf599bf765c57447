// Whether the two backends of a diff-backends row reach the same outcomes at the same sites. A site is a Xen
// function's name, and Xen renamed some between the trees a row can compare: the late-2021 model names a fault
// as its tree does, the C as the tree it was compiled from. A row that differs only by such a rename is the same
// race, and says which rename made it so.

/** Xen's renames the TypeScript model's older generation may show against a newer compiled tree. */
export const RENAMES: ReadonlyArray<{ from: string; to: string; why: string }> = [
  { from: 'pci_get_pdev_by_domain', to: 'pci_get_pdev', why: 'pci_get_pdev_by_domain -> pci_get_pdev (a37f9ea7a6, Aug 2022, in 4.17)' },
];

export interface Comparison { same: boolean; renamed: string[] }

/** `ts`, `c`: sorted "outcome@site" strings. Exact equality, else equality once RENAMES are applied to `ts`. */
export function compareOutcomes(ts: readonly string[], c: readonly string[]): Comparison {
  if (ts.join() === c.join()) return { same: true, renamed: [] };
  const used = new Set<string>();
  const mapped = [...new Set(ts.map((o) => {
    const [kind, site] = o.split('@');
    const r = RENAMES.find((x) => x.from === site);
    if (!r) return o;
    used.add(r.why);
    return `${kind}@${r.to}`;
  }))].sort();
  return used.size > 0 && mapped.join() === c.join() ? { same: true, renamed: [...used] } : { same: false, renamed: [] };
}
