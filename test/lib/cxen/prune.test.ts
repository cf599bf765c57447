// The compile cache stays bounded: each part keeps its most recently used entries, and spares what was used within
// the grace period (another run may be about to link it).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pruneCompileCache } from '../../../lib/cxen/source/index.js';

const DAY = 86_400_000;

describe('the compile cache is pruned to its most recently used entries', () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'vpci-prune-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** An object entry (manifest and object) last used `age` ms before `now`. */
  const object = (key: string, age: number, now: number): void => {
    const dir = path.join(root, 'cc', 'obj');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${key}.json`), JSON.stringify({ obj: `${key}-x.o`, deps: {} }));
    fs.writeFileSync(path.join(dir, `${key}-x.o`), 'o');
    const t = new Date(now - age);
    fs.utimesSync(path.join(dir, `${key}.json`), t, t);
  };
  const link = (key: string, age: number, now: number): void => {
    const dir = path.join(root, 'cc', 'link', key);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'cxen.node'), 'x');
    const t = new Date(now - age);
    fs.utimesSync(dir, t, t);
  };

  it('keeps the N most recently used objects and links, with their files; removes the rest', () => {
    const now = Date.now();
    for (let i = 0; i < 5; i++) { object(`k${i}`, (i + 1) * DAY, now); link(`l${i}`, (i + 1) * DAY, now); }
    const removed = pruneCompileCache(root, { obj: 2, link: 3 }, now);
    assert.equal(removed, 3 + 2);
    assert.deepEqual(fs.readdirSync(path.join(root, 'cc', 'obj')).sort(), ['k0-x.o', 'k0.json', 'k1-x.o', 'k1.json']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'cc', 'link')).sort(), ['l0', 'l1', 'l2']);
  });

  it('never removes what was used within the grace period, however many there are', () => {
    const now = Date.now();
    for (let i = 0; i < 4; i++) object(`k${i}`, i * 1000, now);
    assert.equal(pruneCompileCache(root, { obj: 1, graceMs: 60_000 }, now), 0);
    assert.equal(fs.readdirSync(path.join(root, 'cc', 'obj')).length, 8);
  });

  it('an empty or absent cache is nothing to do', () => {
    assert.equal(pruneCompileCache(root), 0);
  });
});
