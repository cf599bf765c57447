#!/usr/bin/env node
// `npm run xen:source`: runs lib/cxen/source/main.ts from dist/, building first only when dist/ is missing or
// older than those sources (so a cached run, as CI's before the tests, costs no compile).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'lib/cxen/source');
const out = path.join(root, 'dist/lib/cxen/source');
const stale = !existsSync(path.join(out, 'main.js'))
  || readdirSync(src).some((f) => f.endsWith('.ts') && (!existsSync(path.join(out, f.replace(/\.ts$/, '.js')))
    || statSync(path.join(src, f)).mtimeMs > statSync(path.join(out, f.replace(/\.ts$/, '.js'))).mtimeMs));
if (stale) {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
await import(path.join(out, 'main.js'));
