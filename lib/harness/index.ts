// `vpci-lab/model`, the package's public entry: the model's API for patch and scenario files (lib/model.ts), and a
// small harness to drive the model directly (harness.ts), as Xen's tools/tests/vpci/main.c does. docs/model-api.md
// lists the model functions callable by Xen name; docs/scenarios-and-patches.md the rest.

export * from '../model.js';
export { bootModel, callModel, readHandler, writeHandler, type Harness, type HarnessOptions, type RegisterMasks } from './harness.js';
export { loadStrategy, STRATEGY_NAMES, GENERATIONS } from '../strategy/index.js';
export { defineStruct } from '../mem/layout.js';
export type { ReadHandler, WriteHandler } from '../xen/handlers.js';
