// Makes `vpci-lab/model` resolvable for files outside this package (a user's patch in /tmp): the hook is
// registered once per thread, before the first user file loads; worker threads started later inherit it.

import { register } from 'node:module';

let done = false;

export function ensureModelEntry(): void {
  if (done) return;
  done = true;
  register(new URL('./model-hooks.js', import.meta.url), { data: { modelUrl: new URL('../harness/index.js', import.meta.url).href } });
}
