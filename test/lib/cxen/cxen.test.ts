// The C backend: Xen's own vPCI files compiled at run time against native/ and raced on the lab's machinery.
// Needs a C compiler and a Xen 4.17 tree; without either the tests skip and say why.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPool, runTrial, type TrialPool } from '../../../lib/run/index.js';
import { buildAddon, BuildError, nativeDir, type Built } from '../../../lib/cxen/build.js';
import { basicMachine } from '../../fixtures/actors-basic.js';
import { xen417OrSkip } from '../../helpers-xen.js';
import { loadAddon } from '../../../lib/cxen/addon.js';
import { cachedXenTrees } from '../../../lib/cxen/source/index.js';
import { cBackend, CBackendError } from '../../../lib/cxen/select.js';
import { loadScenario } from '../../../lib/scenario/scenario.js';
import { verify } from '../../../lib/explore/verify.js';

const FIX = new URL('../../fixtures/cxen-actors.js', import.meta.url).href;
/** A Xen 4.17 tree: VPCI_XEN_417, else the cache of this machine. */
export function xen417Tree(): string | undefined {
  const debian = cachedXenTrees().filter((t) => t.mark.debianVersion?.startsWith('4.17')).map((t) => t.dir);
  for (const d of [process.env.VPCI_XEN_417, ...debian]) if (d && fs.existsSync(`${d}/xen/drivers/vpci/vpci.c`)) return d;
  return undefined;
}

/** Xen 4.17 and the lab's control C built into one addon, and a pool; skips (saying why) without cc or a tree. */
async function buildOrSkip(ctx: Mocha.Context): Promise<{ built: Built; pool: TrialPool }> {
  const tree = xen417OrSkip(ctx);
  const built = await buildAddon({ xenDir: tree, extra: [fileURLToPath(new URL('../../../../native/test/controls.c', import.meta.url))] });
  return { built, pool: createPool(2) };
}

describe('C backend (Xen 4.17 compiled)', function () {
  this.timeout(240_000);
  let built: Built | undefined;
  let pool: TrialPool;
  before(async function () { ({ built, pool } = await buildOrSkip(this)); });
  after(async () => { await pool?.close(); });

  it("runs Xen's register dispatch in a worker: tools/tests/vpci's values through the compiled vpci_read / vpci_write", async () => {
    const r = await runTrial(pool, basicMachine(1), [{ module: FIX, export: 'regs', arg: { addon: built!.path } }]);
    assert.equal(r.outcome, 'ok', JSON.stringify(r.crash));
    const v = r.threads[0].value as Record<string, number>;
    assert.equal(v.setup, 0, 'registers added, the overlapping and the misaligned one refused');
    assert.equal(v.r0, 0xdeadbeef);
    assert.equal(v.r12, 0xffff8696, 'bytes 14-15 have no handler: hardware all-ones');
    assert.equal(v.r6, 0xefbe);
    assert.equal(v.r0w, 0xbcbcbcbc);
    assert.equal(v.r4, 0xaabbccff, 'byte 4 is a gap: the write is dropped and it reads all-ones');
    assert.equal(v.r0b, 0xbcfebcbc, 'a byte write merges into the 4-byte register');
  });

  it('a build that leaves a symbol undefined is refused in one line naming it (it would kill node at its first call)', async function () {
    const tree = xen417Tree()!;
    const extra = [fileURLToPath(new URL('../../../../native/test/undefined.c', import.meta.url))];
    await assert.rejects(buildAddon({ xenDir: tree, extra }), (e: unknown) => e instanceof BuildError && /left cx_control_never_defined undefined/.test((e as Error).message) && !(e as Error).message.includes('\n'));
  });

  it('a bad tree is one line naming what is missing', async () => {
    await assert.rejects(buildAddon({ xenDir: nativeDir() }), (e: unknown) => e instanceof BuildError && /not a Xen 4\.17 tree: .*vpci\/msix\.c not found/.test((e as Error).message) && !(e as Error).message.includes('\n'));
  });
});

describe('C backend controls (deliberate bugs in lab C, compiled like Xen)', function () {
  this.timeout(240_000);
  let built: Built | undefined;
  let pool: TrialPool;
  before(async function () { ({ built, pool } = await buildOrSkip(this)); });
  after(async () => { await pool?.close(); });

  /** A fresh 2-CPU machine with the control's shared object, and the two actors' calls. */
  const trial = (a: [string, number[]], b: [string, number[]]) => {
    const m = basicMachine(2);
    const s = loadAddon(built!.path).call('t_shared');
    const actor = ([entry, args]: [string, number[]]) => ({ module: FIX, export: 'cEntry', arg: { addon: built!.path, entry, args: [s, ...args] } });
    return { m, actors: [actor(a), actor(b)] };
  };
  /** Controlled runs with the random chooser until one crashes; its result. */
  const hunt = async (a: [string, number[]], b: [string, number[]], tries = 60) => {
    for (let seed = 1; seed <= tries; seed++) {
      const { m, actors } = trial(a, b);
      const r = await runTrial(pool, m, actors, { mode: 'controlled', seed, chooser: 'random' });
      if (r.outcome !== 'ok') return r;
    }
    return undefined;
  };

  it('a use-after-free is reported at the C function that made the access, and its schedule replays it', async () => {
    const r = await hunt(['t_uaf_free', []], ['t_uaf_use', []]);
    assert.ok(r, 'some schedule frees the item between the unlock and the use');
    assert.equal(r.outcome, 'use-after-free');
    assert.equal(r.crash?.where, 't_uaf_use');
    assert.match(r.crash!.message, /read of 4 bytes at word 0x[0-9a-f]+ of a freed block/);
    const { m, actors } = trial(['t_uaf_free', []], ['t_uaf_use', []]);
    const again = await runTrial(pool, m, actors, { mode: 'controlled', chooser: 'replay', schedule: r.schedule });
    assert.deepEqual([again.outcome, again.crash?.where], ['use-after-free', 't_uaf_use']);
  });

  it('verify sees the C accesses: the race is refuted with footprints; without them (the control) DPOR prunes it, an unreduced search does not', async () => {
    const { url, scenario } = await loadScenario(fileURLToPath(new URL('../../fixtures/cxen-race-scenario.js', import.meta.url)));
    const o = { bound: 2, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 5000, budgetMs: 120_000, seed: 1 };
    scenario.params = { addon: built!.path, checks: true };
    const on = await verify(pool, url, scenario, 'baseline', o);
    assert.deepEqual(on.outcomes.assert?.where, ['t_race_bump']);
    scenario.params = { addon: built!.path, checks: false };
    const off = await verify(pool, url, scenario, 'baseline', o);
    assert.equal(off.outcomes.assert, undefined, 'without footprints the reduction calls the racy orders equivalent');
    const unreduced = await verify(pool, url, scenario, 'baseline', { ...o, reduce: false });
    assert.ok(unreduced.outcomes.assert, 'the failing schedules exist');
  });

  it("an unlocked write race loses an update, and the final ASSERT reports it at its site; the schedule replays it", async () => {
    const r = await hunt(['t_race_bump', [0]], ['t_race_bump', [1]]);
    assert.ok(r, 'some schedule interleaves the two read-modify-writes');
    assert.equal(r.outcome, 'assert');
    assert.equal(r.crash?.where, 't_race_bump');
    assert.match(r.crash!.message, /s->counter == 2/);
    const { m, actors } = trial(['t_race_bump', [0]], ['t_race_bump', [1]]);
    const again = await runTrial(pool, m, actors, { mode: 'controlled', chooser: 'replay', schedule: r.schedule });
    assert.deepEqual([again.outcome, again.crash?.where], ['assert', 't_race_bump']);
  });
});

describe('C backend under verify (--backend c)', function () {
  this.timeout(300_000);
  let pool: TrialPool;
  let tree: string | undefined;
  before(async function () {
    tree = xen417OrSkip(this);
    pool = createPool(2);
  });
  after(async () => { await pool?.close(); });

  const opts = { bound: 1, reduce: true, kinds: 0, maxFaults: 0, maxRuns: 2000, budgetMs: 120_000, seed: 1 };

  it("crash-path-1 on Debian's 4.17.5: the compiled vpci_process_pending locks through NULL (0x10, the lock after the list head), and modify_bars' walk meets the removed device", async () => {
    const c = await cBackend({ xenSrc: tree });
    const { url, scenario } = await loadScenario('crash-path-1');
    const r = await verify(pool, url, scenario, c.strategy.name, opts);
    assert.equal(r.complete, true);
    assert.deepEqual(r.outcomes['null-deref']?.where, ['vpci_process_pending']);
    assert.equal(r.outcomes['null-deref']?.minPreemptions, 0);
    assert.deepEqual(r.outcomes['use-after-free']?.where, ['modify_bars']);
    assert.match(r.firstFailure!.message, /write of 4 bytes at 0x10 .*compiled C/);
    assert.equal(c.provenance.version, '4.17.5');
  });

  it('bad input is one line: a patch that does not apply, a tree that is not Xen, no compiler', async () => {
    const bad = fileURLToPath(new URL('../../../../native/test/controls.c', import.meta.url));
    await assert.rejects(cBackend({ xenSrc: tree, patches: [bad] }), (e: unknown) => e instanceof CBackendError && /controls\.c/.test((e as Error).message) && !(e as Error).message.includes('\n'));
    await assert.rejects(cBackend({ xenSrc: nativeDir() }), (e: unknown) => e instanceof CBackendError && /not a Xen tree/.test((e as Error).message));
    const cc = process.env.CC;
    process.env.CC = 'vpci-lab-no-such-cc';
    try {
      await assert.rejects(cBackend({ xenSrc: tree, release: true }), (e: unknown) => e instanceof CBackendError && /no C compiler/.test((e as Error).message));
    } finally { if (cc === undefined) delete process.env.CC; else process.env.CC = cc; }
  });
});
