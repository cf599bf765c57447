#!/usr/bin/env node
// The house plan, checked: every import must point down a layer (or stay in its own), no file may import itself
// back through a cycle, a command never imports another command's folder, and every source file keeps short files
// (<= 300 lines) and short functions (<= 80 lines)
// except a model function that mirrors one Xen function (snake_case, in lib/xen). Reads the TypeScript sources,
// so it runs before any build. Exit 1 on a violation.

import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { checkHeapAccesses, EXCEPTIONS } from './heap-reads.mjs';
import { scriptArgs } from './args.mjs';

scriptArgs('check:layers', 'node scripts/check-layers.mjs (or npm run check:layers; takes no arguments)');

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Bottom to top; a file may import its own layer or any layer listed before it. test/ may import anything. */
export const LAYERS = [
  ['lib/cxen/source'], ['lib/mem'], ['lib/trace'], ['lib/sched'], ['lib/sync'], ['lib/hw'], ['lib/xen'], ['lib/model.ts'], ['lib/strategy'], ['lib/cxen'],
  ['lib/run'], ['lib/check'], ['lib/lab'], ['lib/harness'], ['lib/verify'], ['workers'], ['lib/scenario'], ['scenarios'], ['lib/explore'],
  ['cli'], ['report'], ['commands'], ['cli/main.ts'],
];

/** The layer of a file: its longest matching prefix (cli/main.ts, the entry, sits above the cli/ helpers). */
const layerOf = (rel) => {
  let best = -1, len = -1;
  LAYERS.forEach((ps, i) => ps.forEach((p) => {
    if ((rel === p || rel.startsWith(p + '/')) && p.length > len) { best = i; len = p.length; }
  }));
  return best;
};
/** commands/<name>/...: the command a file belongs to, or undefined. */
const commandOf = (rel) => /^commands\/([^/]+)\//.exec(rel)?.[1];

function* sources(dir) {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(rel);
    else if (/\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) yield rel;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(rel) {
  const text = fs.readFileSync(path.join(root, rel), 'utf8');
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    out.push(path.normalize(path.join(path.dirname(rel), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const files = ['lib', 'workers', 'scenarios', 'cli', 'report', 'commands'].filter((d) => fs.existsSync(path.join(root, d))).flatMap((d) => [...sources(d)]);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => fs.existsSync(path.join(root, t)))]));
const problems = [];

for (const [f, targets] of graph) {
  const lf = layerOf(f);
  if (lf < 0) { problems.push(`${f}: in no layer (add its directory to LAYERS in scripts/check-layers.mjs)`); continue; }
  for (const t of targets) {
    const lt = layerOf(t);
    if (lt > lf) problems.push(`${f} imports ${t}: ${LAYERS[lf][0]} may not depend on ${LAYERS[lt][0]}, a layer above it`);
    const cf = commandOf(f), ct = commandOf(t);
    if (cf && ct && cf !== ct) problems.push(`${f} imports ${t}: a command never imports another command (move the shared piece down, to report/ or lib/)`);
  }
}

// Cycles between files (Tarjan's strongly connected components).
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set();
function strong(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1) problems.push(`import cycle: ${comp.reverse().join(' -> ')}`);
  }
}
for (const f of graph.keys()) if (!idx.has(f)) strong(f);

// Sizes: files and functions.
const MAX_FILE = 300, MAX_FN = 80;
const mirrorsXen = (file, name) => file.startsWith('lib/xen/') && /^[a-z][a-z0-9_]*$/.test(name ?? '') && (name ?? '').includes('_');
for (const f of graph.keys()) {
  const text = fs.readFileSync(path.join(root, f), 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE) problems.push(`${f}: ${lines} lines (at most ${MAX_FILE}): split it by concern`);
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const a = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const b = sf.getLineAndCharacterOfPosition(node.end).line;
      const name = node.name?.getText(sf) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : undefined);
      if (b - a + 1 > MAX_FN && !mirrorsXen(f, name)) problems.push(`${f}:${a + 1}: function ${name ?? '(anonymous)'} is ${b - a + 1} lines (at most ${MAX_FN})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

// Every model access to heap memory goes through a pointer chk() has vouched for since the last point where
// another CPU could run (scripts/heap-reads.mjs; its EXCEPTIONS list says which accesses are exempt and why).
for (const p of checkHeapAccesses(root)) problems.push(`unchecked heap access: ${p}`);

if (problems.length) {
  for (const p of problems) process.stderr.write(`check:layers: ${p}\n`);
  process.exit(1);
}
process.stdout.write(`check:layers: ${graph.size} files, ${LAYERS.length} layers, every import points down, no cycles, no file over ${MAX_FILE} lines, no function over ${MAX_FN}, every heap access in lib/xen and lib/strategy checked (${EXCEPTIONS.length} exceptions)\n`);
