// S6, what Xen merged (8862c7b8b6, 4f78438b45, 622bdd9628 and later, up to c447b7308b): the HEAD generation
// itself, unpatched. The late-2021 model with d->pci_lock bolted on that this name used to stand for is retired:
// it re-read the pending slot under the lock, which HEAD does not (header.c:179 vs 186).

import type { Patch } from './patch.js';

export const upstream: Patch = {
  name: 'upstream',
  base: 'head',
  summary: 'Xen HEAD as merged: d->pci_lock read for reads and pending work, write for writes and device changes',
  source: 'c447b7308b; 8862c7b8b6, 4f78438b45, 622bdd9628; model §C; §G row S6',
};
