// Every replay line the docs print (`vpci-lab repro SCENARIO ... --schedule S2:...`) is a claim that the run it
// names still ends that way: replay each one on today's model and require the run it recorded, not a refusal (a
// changed model refuses an S2 string whose site digest no longer matches). Lines naming a file that only exists
// after a command ran (out/hunt/finding-3.mjs) are examples, not claims; C-backend lines need a compiler and a tree.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { noCompiler, cachedTree } from '../helpers-xen.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'dist/cli/main.js');
const PAGES = ['README.md', 'scenarios/README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const BUILTIN = new Set(fs.readdirSync(path.join(ROOT, 'scenarios')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')));

/** Replay lines with a schedule string, as the docs print them (quotes dropped). */
function replayLines(text: string): string[] {
  return [...text.matchAll(/vpci-lab repro ([^|`\n]*?--schedule '?S[12]:[0-9a-z:]+'?)/g)].map((m) => m[1].replace(/'/g, '').trim());
}

describe('docs: every printed replay line replays', function () {
  this.timeout(300_000);
  const lines = [...new Set(PAGES.flatMap((p) => replayLines(fs.readFileSync(path.join(ROOT, p), 'utf8')).map((l) => `${p}\u0000${l}`)))];

  it('finds the replay lines (a control: the pattern matches what the pages print)', () => {
    assert.ok(lines.length >= 5, `only ${lines.length} replay lines found`);
  });

  for (const entry of lines) {
    const [page, line] = entry.split('\u0000');
    const args = line.split(/\s+/);
    const scenario = args[0];
    it(`${page}: ${line}`, function () {
      if (!BUILTIN.has(scenario) && !fs.existsSync(path.join(ROOT, scenario))) this.skip();   // an example path
      if (args.includes('--backend')) {
        const why = noCompiler();
        if (why || !(process.env.VPCI_XEN_SRC || cachedTree('debian'))) this.skip();
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-replay-'));
      try {
        const r = spawnSync(process.execPath, [CLI, 'repro', ...args, '--html', path.join(dir, 't.html')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
        assert.match(r.stdout, /^replayed run: /m, `${line}\n${r.stdout}${r.stderr}`);
        assert.doesNotMatch(r.stderr, /^vpci-lab: /m, r.stderr);
      } finally { fs.rmSync(dir, { recursive: true, force: true }); }
    });
  }
});
