// Issue 21, item 1: every access to heap memory is checked. A rangeset freed while a vCPU consumes it, and a lock
// released after its memory was freed, end as use-after-free at their site (they used to end as hangs); the rule in
// scripts/heap-reads.mjs refuses an unchecked access and accepts the checked form.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { M } from '../../../lib/mem/machine.js';
import { xzalloc, xfree } from '../../../lib/mem/heap.js';
import { spin_lock_init, spin_lock, ticket_release } from '../../../lib/sync/spinlock.js';
import { rwlock_init, write_lock, write_unlock } from '../../../lib/sync/rwlock.js';
import { rangeset_new, rangeset_add_range, rangeset_destroy, rangeset_consume_ranges } from '../../../lib/xen/rangeset.js';
import { VPCI, RANGESET } from '../../../lib/xen/types.js';
import { boot, crashOf } from '../../helpers-model.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../..');

describe('checked heap accesses (issue 21)', () => {
  it('a rangeset freed while a vCPU consumes it: use-after-free in rangeset_consume_ranges, not a hang', () => {
    boot();
    const r = rangeset_new();
    assert.equal(rangeset_add_range(r, 0x100, 0x101), 0);
    assert.equal(rangeset_add_range(r, 0x200, 0x203), 0);
    let calls = 0;
    const c = crashOf(() => rangeset_consume_ranges(r, (s, e, consumed) => {
      calls++;
      rangeset_destroy(r);                      // the removal on another CPU: frees without r->lock (rangeset.c:475-491)
      consumed.c = e - s + 1;
      return 0;
    }));
    assert.equal(calls, 1, 'the set is read again after the first callback, and that read is caught');
    assert.equal(c?.kind, 'use-after-free');
    assert.equal(c?.where, 'rangeset_consume_ranges');
  });

  it('the same consumption with the set alive consumes every range', () => {
    boot();
    const r = rangeset_new();
    rangeset_add_range(r, 0x100, 0x101);
    rangeset_add_range(r, 0x200, 0x203);
    let frames = 0;
    assert.equal(rangeset_consume_ranges(r, (s, e, consumed) => { frames += e - s + 1; consumed.c = e - s + 1; return 0; }), 0);
    assert.equal(frames, 6);
    assert.equal(M[r + RANGESET.nr], 0);
  });

  it('an unlock whose lock word was freed under its holder is a use-after-free at the unlock', () => {
    boot();
    const v = xzalloc(VPCI);
    spin_lock_init(v + VPCI.lock);
    spin_lock(v + VPCI.lock);
    xfree(v, 'test');                            // vpci_remove_device on another CPU, after the holder's check
    const c = crashOf(() => ticket_release(v + VPCI.lock));   // the release half of spin_unlock
    assert.equal(c?.kind, 'use-after-free');
    assert.equal(c?.where, 'spin_unlock');
  });

  it('a write lock released inside freed memory is flagged (rangeset->lock freed by rangeset_destroy)', () => {
    boot();
    const r = xzalloc(RANGESET);
    rwlock_init(r + RANGESET.lock);
    write_lock(r + RANGESET.lock);
    xfree(r, 'test');
    const c = crashOf(() => write_unlock(r + RANGESET.lock));
    assert.equal(c?.kind, 'use-after-free');
    assert.equal(c?.where, 'write_unlock');
  });

  it('a lock taken inside freed memory is flagged', () => {
    boot();
    const v = xzalloc(VPCI);
    spin_lock_init(v + VPCI.lock);
    xfree(v, 'test');
    assert.equal(crashOf(() => spin_lock(v + VPCI.lock))?.kind, 'use-after-free');
  });
});

describe('the rule: scripts/heap-reads.mjs', () => {
  const fixture = (body: string): string[] => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heap-reads-'));
    fs.mkdirSync(path.join(dir, 'lib/xen'), { recursive: true });
    fs.copyFileSync(path.join(root, 'lib/xen/types.ts'), path.join(dir, 'lib/xen/types.ts'));
    fs.writeFileSync(path.join(dir, 'lib/xen/bad.ts'), body);
    return [dir];
  };
  const run = async (body: string): Promise<string[]> => {
    const { checkHeapAccesses } = await import(path.join(root, 'scripts/heap-reads.mjs')) as { checkHeapAccesses: (r: string, d: string[]) => string[] };
    const [dir] = fixture(body);
    return checkHeapAccesses(dir, ['lib/xen']).filter((p) => p.includes('bad.ts'));
  };

  it('refuses a raw read through an unchecked pointer, and one after a lock operation', async () => {
    const raw = await run(`export function f(pdev: number): number { return M[pdev + PCI_DEV.vpci]; }`);
    assert.equal(raw.length, 1);
    assert.match(raw[0], /pdev is not checked/);
    const afterLock = await run(`export function g(pdev: number): number {
      const x = M[chk(pdev, PCI_DEV, 'g') + PCI_DEV.vpci];
      spin_lock(x);
      return M[pdev + PCI_DEV.sbdf];
    }`);
    assert.equal(afterLock.length, 1);
    assert.match(afterLock[0], /another CPU can run between chk\(pdev\)/);
  });

  it('accepts the checked forms', async () => {
    assert.deepEqual(await run(`export function h(pdev: number): number {
      const x = M[chk(pdev, PCI_DEV, 'h') + PCI_DEV.vpci];
      spin_lock(x);
      return M[chk(pdev, PCI_DEV, 'h') + PCI_DEV.sbdf] + M[pdev + PCI_DEV.domain];
    }`), []);
  });

  it('the tree has no unchecked access left', async () => {
    const { checkHeapAccesses } = await import(path.join(root, 'scripts/heap-reads.mjs')) as { checkHeapAccesses: (r: string) => string[] };
    assert.deepEqual(checkHeapAccesses(root), []);
  });
});
