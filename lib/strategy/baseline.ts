// S0, late 2021 (4ed7d5525f): the L21 model unpatched; nothing protects pdev->vpci beyond the spinlock inside it,
// which is freed with it.

import type { Patch } from './patch.js';

export const baseline: Patch = {
  name: 'baseline',
  base: 'l21',
  summary: 'late-2021 code: nothing protects pdev->vpci or the pending slot from removal',
  source: '4ed7d5525f (L21), model §A; §G row S0',
};
