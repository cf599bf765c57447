// The README and docs/ are the front door and the reference: every relative link (and its #anchor) must lead
// somewhere, and every `vpci-lab ...` line in a shell block must name a real command and only options that
// command's --help lists — so a renamed option or a moved page fails here, not in a reader's terminal.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = path.join(ROOT, 'dist/cli/main.js');
const PAGES = ['README.md', 'scenarios/README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
export const slug = (h: string): string => h.trim().toLowerCase().replace(/[^\w\- ]+/g, '').replace(/ /g, '-');
const anchors = (text: string): Set<string> => new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1].replace(/`/g, ''))));

/** `vpci-lab CMD [SUB] args` lines inside ```sh blocks, comments and continuation dropped. */
function commandLines(text: string): string[] {
  const out: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line.startsWith('vpci-lab ')) out.push(line);
    }
  }
  return out;
}

const helps = new Map<string, string>();
function help(cmd: string[]): string {
  const key = cmd.join(' ');
  if (!helps.has(key)) {
    const r = spawnSync(process.execPath, [CLI, ...cmd, '--help'], { encoding: 'utf8', timeout: 30_000 });
    helps.set(key, r.status === 0 ? r.stdout : '');
  }
  return helps.get(key)!;
}

describe('docs: links and commands stay valid', function () {
  this.timeout(120_000);

  for (const page of PAGES) {
    it(`${page}: every relative link and anchor resolves`, () => {
      const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split('#');
        const abs = file ? path.resolve(path.dirname(path.join(ROOT, page)), file) : path.join(ROOT, page);
        assert.ok(fs.existsSync(abs), `${page}: link to ${target}: no such file`);
        if (anchor && abs.endsWith('.md')) assert.ok(anchors(fs.readFileSync(abs, 'utf8')).has(anchor), `${page}: link to ${target}: no such heading`);
      }
    });

    it(`${page}: every vpci-lab command line names a real command and its real options`, () => {
      const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
      for (const line of commandLines(text)) {
        const words = line.split(/\s+/).slice(1);
        const cmd = words[0] === 'bench' ? words.slice(0, 2) : words.slice(0, 1);
        const h = help(cmd);
        assert.ok(h, `${page}: '${line}': 'vpci-lab ${cmd.join(' ')} --help' fails: no such command`);
        for (const w of words) {
          const flag = /^(--[a-z][a-z0-9-]*)/.exec(w)?.[1];
          if (flag && flag !== '--help') assert.ok(h.includes(flag), `${page}: '${line}': ${flag} is not an option of ${cmd.join(' ')}`);
        }
      }
    });
  }

  it('scenarios/README.md lists every built-in scenario, and only those', async () => {
    const { BUILTIN_SCENARIOS } = await import('../../lib/scenario/scenario.js');
    const listed = [...fs.readFileSync(path.join(ROOT, 'scenarios/README.md'), 'utf8').matchAll(/^\| \[`([^`]+)`\]/gm)].map((m) => m[1]);
    assert.deepEqual([...listed].sort(), [...BUILTIN_SCENARIOS].sort());
  });

  it('a control: a link to a missing page and an unknown option are caught', () => {
    assert.ok(!fs.existsSync(path.join(ROOT, 'docs/no-such-page.md')));
    assert.ok(!help(['verify']).includes('--no-such-option') && help(['verify']).includes('--preemptions'));
    assert.equal(help(['frobnicate']), '');
    assert.equal(slug("The model beside Xen's C"), 'the-model-beside-xens-c');
  });
});
