#!/usr/bin/env node
// npm run readme:tables [-- --run] [FILE]: rewrite the marked result tables of the README and of every docs/*.md page
// from their JSON runs (report/readme-tables.ts); commands run and JSON paths resolve from the project's root.
// Given one FILE, only that file, from its own directory. With --run, first run each block's command to write its
// JSON afresh. Needs a build (dist/).

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './args.mjs';

const { values, positionals } = scriptArgs('readme:tables', 'npm run readme:tables [-- --run] [FILE]', { options: { run: { type: 'boolean' } }, args: [0, 1] });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { renderTables, blocks } = await import(path.join(root, 'dist/report/readme-tables.js'));
const cli = path.join(root, 'dist/cli/main.js');

const run = values.run === true;
const given = positionals[0];
const pages = given ? [path.resolve(given)]
  : [path.join(root, 'README.md'), ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join(root, 'docs', f))];
try {
  for (const page of pages) rewrite(page, given ? path.dirname(page) : root);
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}

function rewrite(readme, dir) {
  const text = fs.readFileSync(readme, 'utf8');
  const found = blocks(text);
  if (found.length === 0) return;
  if (run) {
    for (const b of found) {
      const argv = b.command.replace(/^vpci-lab\s+/, '').split(/\s+/);
      process.stderr.write(`readme:tables: ${b.command}\n`);
      const r = spawnSync(process.execPath, [cli, ...argv], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
      // explore exits 1 when a cell saw a surprise: its JSON is written all the same.
      if (r.status !== 0 && r.status !== 1) throw new Error(`'${b.command}' exited ${r.status}`);
    }
  }
  fs.writeFileSync(readme, renderTables(text, dir));
  process.stderr.write(`readme:tables: ${found.length} table(s) rewritten in ${path.relative(process.cwd(), readme) || readme}\n`);
}
