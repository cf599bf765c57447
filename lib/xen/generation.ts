// A generation of the model: Xen's vPCI code at one commit, as a table of functions by Xen name (lib/xen/fn.ts).
// Strategies and user patches name the generation they patch; lib/strategy builds the table a machine runs.

import type { ModelTable } from './fn.js';
import type { GenerationCaps } from './caps.js';

export type { GenerationCaps };
export type GenerationName = 'l21' | 'head';

export interface Generation {
  readonly name: GenerationName;
  readonly caps: GenerationCaps;
  /** One line: which Xen this is. */
  readonly summary: string;
  /** The commit the model follows. */
  readonly commit: string;
  readonly fns: ModelTable;
}
