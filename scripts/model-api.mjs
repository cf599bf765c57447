#!/usr/bin/env node
// npm run docs:api: rewrite docs/model-api.md from the function table (lib/harness/api-doc.ts, built to dist/).
import fs from 'node:fs';
import path from 'node:path';
import { scriptArgs } from './args.mjs';
scriptArgs('docs:api', 'npm run docs:api (rewrites docs/model-api.md; takes no arguments)');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { modelApiMarkdown } = await import(path.join(root, 'dist/lib/harness/api-doc.js'));
fs.writeFileSync(path.join(root, 'docs/model-api.md'), modelApiMarkdown());
process.stderr.write('docs:api: docs/model-api.md rewritten\n');
