// `npm run xen:source [-- options]`: put a Xen tree in the cache for the C backend (see docs/c-backend.md).
//   (no option)          Debian's source package of xen for this machine's suite, through apt (once; then cached)
//   --refresh            ask apt again even if a Debian tree is cached
//   --git REPO --rev R   export commit R of a Xen git repository instead (e.g. --rev c447b7308b)
//   --list               the trees in the cache
// One line on success; on failure one line on stderr and exit 2.

import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { fetchDebianXen, exportGitXen, type FetchResult } from './fetch.js';
import { cachedXenTrees } from './tree.js';
import { identify } from './identify.js';
import { isXenSourceError } from './errors.js';

const show = (dir: string): string => relative(process.cwd(), dir) || dir;

function describe(r: FetchResult): string {
  const id = identify(r.dir);
  const what = r.mark.origin === 'debian' ? `Xen ${id.version} (Debian ${r.mark.debianVersion})` : `Xen ${id.version} at ${r.mark.commit?.slice(0, 12)}`;
  return `${what}, ${id.generation} generation: ${show(r.dir)}${r.cached ? ' (cached)' : ''}`;
}

function main(argv: string[]): number {
  const { values: v } = parseArgs({
    args: argv, strict: true,
    options: { refresh: { type: 'boolean' }, git: { type: 'string' }, rev: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (v.help) { process.stdout.write('usage: npm run xen:source [-- --refresh | --git REPO --rev COMMIT | --list]\n'); return 0; }
  if (v.list) {
    for (const t of cachedXenTrees()) process.stdout.write(`${describe({ ...t, cached: true })}\n`);
    return 0;
  }
  if ((v.git === undefined) !== (v.rev === undefined)) { process.stderr.write('xen:source: --git REPO and --rev COMMIT go together\n'); return 2; }
  const r = v.git !== undefined ? exportGitXen(v.git, v.rev!) : fetchDebianXen({ refresh: v.refresh });
  process.stdout.write(`${describe(r)}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  const msg = isXenSourceError(e) ? e.message : (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? (e as Error).message.split('\n')[0] : undefined;
  if (msg === undefined) throw e;
  process.stderr.write(`xen:source: ${msg}\n`);
  process.exitCode = 2;
}
