// Booting from an image (lib/lab/boot-image.ts): the third boot of a description is a copy of the first, and that
// copy is what a fresh boot gives, byte for byte outside the lock profile's timings, with the same world; a run on it
// ends as a run on a freshly booted machine does.

import assert from 'node:assert/strict';
import { bootMachine } from '../../../lib/lab/boot.js';
import { bootFromImage, forgetBootImages, imageStats } from '../../../lib/lab/boot-image.js';
import { loadScenario, scenarioModel } from '../../../lib/scenario/scenario.js';
import { VERIFY_WORDS } from '../../../lib/verify/trace.js';
import { M, LAYOUT, cpu, releaseMachine, checkImageRestores } from '../../../lib/mem/machine.js';
import { record, EV } from '../../../lib/trace/recorder.js';
import { xzalloc_words } from '../../../lib/mem/heap.js';
import { defineStruct } from '../../../lib/mem/layout.js';
import { verify } from '../../../lib/explore/verify.js';
import { createPool } from '../../../lib/run/index.js';
import { ALL_FAULT_KINDS } from '../../../lib/verify/trace.js';

const RUN_BLOCK = defineStruct('boot_image_test', { w: 1 });
import { BOOT_CPU } from '../../../lib/lab/boot.js';

async function descOf(name: string, strategy: string) {
  const { scenario } = await loadScenario(name);
  const { desc } = scenarioModel(scenario, strategy, 1);
  desc.extraRegions = { ...desc.extraRegions, verify: VERIFY_WORDS };
  return desc;
}

/** Words that differ between two machines' buffers, outside region `skip`. */
function diff(a: SharedArrayBuffer, b: SharedArrayBuffer, skip: { base: number; words: number }): number[] {
  const x = new Int32Array(a), y = new Int32Array(b), out: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && (i < skip.base || i >= skip.base + skip.words)) out.push(i);
  return out;
}

describe('boot from an image', () => {
  beforeEach(() => forgetBootImages());

  for (const [name, strategy] of [['crash-path-4', 'upstream'], ['hidden-device', 'baseline'], ['msix-race', 'pcidevs']] as const) {
    it(`${name} / ${strategy}: the third boot is the image, equal to a fresh boot`, async () => {
      const desc = await descOf(name, strategy);
      const before = { ...imageStats };
      bootFromImage(desc);
      bootFromImage(desc);
      const third = bootFromImage(desc);
      assert.deepEqual({ fromImage: imageStats.fromImage - before.fromImage, booted: imageStats.booted - before.booted }, { fromImage: 1, booted: 2 });
      // The main thread is left as bootMachine leaves it: attached to this machine, on the boot CPU.
      assert.equal(M.buffer, third.machine.sab);
      assert.equal(LAYOUT, third.machine.layout);
      assert.equal(cpu, BOOT_CPU);
      const fresh = bootMachine(desc);
      assert.notEqual(fresh.machine.sab, third.machine.sab);
      assert.deepEqual(diff(third.machine.sab, fresh.machine.sab, fresh.machine.layout.regions.profile), []);
      assert.deepEqual(third.world, fresh.world);
      assert.deepEqual(third.machine.meta, fresh.machine.meta);
      assert.ok(Object.isFrozen(third.world.vcpus[0]), 'the shared world cannot be changed by one run for the next');
    });
  }

  it('a released machine restored from its image (only what a run can change) equals a fresh boot', async () => {
    const desc = await descOf('stale-pdev', 'upstream');
    for (let i = 0; i < 2; i++) bootFromImage(desc);
    const run = bootFromImage(desc);
    // What a run does: allocates (the bump moves), writes its blocks and the words below the heap.
    const block = xzalloc_words(RUN_BLOCK, 64);
    for (let i = 0; i < 64; i++) M[block + i] = 0x5a5a0000 + i;
    record(EV.NOTE, 7, 7); // the flight recorder: restored up to each CPU's write index
    releaseMachine(run.machine);
    const again = bootFromImage(desc);
    assert.equal(again.machine.sab, run.machine.sab, 'the released buffer is reused');
    const fresh = bootMachine(desc);
    assert.deepEqual(diff(again.machine.sab, fresh.machine.sab, fresh.machine.layout.regions.profile), []);
  });

  it('a write above the heap bump is not restored, and VPCI_IMAGE_CHECK says so (the partial copy relies on there being none)', async () => {
    const desc = await descOf('stale-pdev', 'upstream');
    for (let i = 0; i < 2; i++) bootFromImage(desc);
    const run = bootFromImage(desc);
    const { heap } = run.machine.layout;
    M[heap.base + heap.words - 1] = 1; // never handed out: no run of the model writes there
    releaseMachine(run.machine);
    checkImageRestores(true);
    try {
      assert.throws(() => bootFromImage(desc), /differs from the image/);
    } finally { checkImageRestores(false); }
  });

  it('every restore of a verify search (real workers, faults, two cells) equals its image', async function () {
    this.timeout(120_000);
    const pool = createPool(3);
    checkImageRestores(true); // a restore that differs from the image throws (a lab error), failing the search
    try {
      for (const [name, strategy] of [['stale-pdev', 'upstream'], ['abba', 'baseline']] as const) {
        const { url, scenario } = await loadScenario(name);
        const r = await verify(pool, url, scenario, strategy, { bound: 1, reduce: true, kinds: ALL_FAULT_KINDS, maxFaults: 1, maxRuns: 400, budgetMs: 60_000, seed: 1 });
        assert.ok(r.runs > 20, `${name}: ${r.runs} runs`);
      }
    } finally {
      checkImageRestores(false);
      await pool.close();
    }
  });

  it('another description boots afresh', async () => {
    const a = await descOf('crash-path-4', 'upstream'), b = await descOf('crash-path-4', 'baseline');
    for (let i = 0; i < 3; i++) bootFromImage(a);
    const before = imageStats.booted;
    bootFromImage(b);
    assert.equal(imageStats.booted, before + 1);
  });
});
