// The flight recorder's global order on real threads: releases are stamped with a read of the sequence word, not an
// add (lib/trace/recorder.ts recordRelease), and the merged timeline must still put every lock hand-over in order
// (each UNLOCK after its LOCK, the next LOCK after that UNLOCK) and keep each thread's own order.

import assert from 'node:assert/strict';
import { readRing, EV, type TraceEvent } from '../../../lib/trace/recorder.js';
import { xzalloc } from '../../../lib/mem/heap.js';
import { spin_lock_init, rwlock_init } from '../../../lib/sync/index.js';
import { TORTURE } from '../../../workers/locktorture.js';
import { boot, pool, closePools, CLS } from '../../fixtures/sync-harness.js';

const TRACED = { profile: true, lockdep: true, trace: true };

/**
 * The rings of cpus, merged as the readers do (concatenated per CPU, stable sort by seq), from the first seq every
 * ring still covers (a ring keeps its thread's last 256 events).
 */
function merged(cpus: number[]): TraceEvent[] {
  const rings = cpus.map((c) => readRing(c));
  const from = Math.max(...rings.map((r) => (r.length > 0 ? r[0].seq : -Infinity)));
  return rings.flat().sort((x, y) => x.seq - y.seq).filter((e) => e.seq >= from);
}

/** Each thread's events are in ring order in the merged list, and the lock at `lock` is handed over in order. */
function checkHandovers(events: TraceEvent[], lock: number, acquire: number[], release: number[]): number {
  const lastSeq = new Map<number, number>();
  for (const e of events) {
    assert.ok(e.seq >= (lastSeq.get(e.cpu) ?? -Infinity), `cpu${e.cpu}: seq ${e.seq} after ${lastSeq.get(e.cpu)}`);
    lastSeq.set(e.cpu, e.seq);
  }
  const ops = events.filter((e) => e.b === lock && (acquire.includes(e.ev) || release.includes(e.ev)));
  let i = ops.findIndex((e) => acquire.includes(e.ev));
  assert.ok(i >= 0, 'lock events in the window');
  let handovers = 0, holder = -1;
  for (; i < ops.length; i++) {
    const e = ops[i];
    if (acquire.includes(e.ev)) {
      assert.equal(holder, -1, `#${i}: cpu${e.cpu} acquires (seq ${e.seq}) while cpu${holder} holds the lock`);
      holder = e.cpu;
    } else {
      assert.equal(e.cpu, holder, `#${i}: cpu${e.cpu} releases (seq ${e.seq}) a lock held by cpu${holder}`);
      holder = -1; handovers++;
    }
  }
  return handovers;
}

/** A booted machine with one lock of the torture layout, initialised by `init`, and a pool of `workers` CPUs. */
async function torture(init: (lock: number, cls: number) => void, cls: number, workers: number) {
  const sm = boot();
  const p = xzalloc(TORTURE), lock = p + TORTURE.lock;
  init(lock, cls);
  return { p, lock, pl: await pool(sm, workers) };
}

describe('flight recorder: the merged order of real threads', function () {
  this.timeout(60000);
  afterEach(closePools);

  it('puts every spinlock hand-over in order (4 workers, releases stamped without an add)', async () => {
    const { p, lock, pl } = await torture(spin_lock_init, CLS.SPIN, 4);
    const job = { kind: 'spin' as const, lock, counter: p + TORTURE.counter, iters: 4000, hold: 2 };
    for (let round = 0; round < 3; round++) {
      const r = await pl.run([job, job, job, job], 30000, TRACED);
      for (const x of r.results) assert.ok(x.ok, x.ok ? '' : x.message);
      const events = merged([1, 2, 3, 4]);
      const cpus = new Set(events.filter((e) => e.ev === EV.LOCK).map((e) => e.cpu));
      // Only a window where the workers alternated tests anything; a round where one ran alone is retried.
      if (cpus.size < 2 && round < 2) continue;
      assert.ok(checkHandovers(events, lock, [EV.LOCK], [EV.UNLOCK]) > 100);
      return;
    }
  });

  it('puts every rwlock hand-over between writers and readers in order', async () => {
    const { p, lock, pl } = await torture(rwlock_init, CLS.RW, 3);
    const job = { kind: 'rw' as const, lock, state: p + TORTURE.state, iters: 4000, writePermille: 500 };
    const r = await pl.run([job, { ...job, seed: 7 }, { ...job, seed: 11 }], 30000, TRACED);
    for (const x of r.results) assert.ok(x.ok, x.ok ? '' : x.message);
    const events = merged([1, 2, 3]).filter((e) => e.b === lock);
    // A writer's LOCK .. UNLOCK contains no other event of the lock; readers may overlap each other.
    let writer = -1, readers = 0, writes = 0;
    const start = events.findIndex((e) => e.ev === EV.LOCK);
    for (const e of events.slice(start)) {
      if (e.ev === EV.LOCK) { assert.equal(writer, -1, `cpu${e.cpu} writes while cpu${writer} does`); assert.equal(readers, 0, `cpu${e.cpu} writes among ${readers} readers`); writer = e.cpu; }
      else if (e.ev === EV.UNLOCK) { assert.equal(e.cpu, writer); writer = -1; writes++; }
      else if (e.ev === EV.RLOCK) { assert.equal(writer, -1, `cpu${e.cpu} reads while cpu${writer} writes`); readers++; }
      else if (e.ev === EV.RUNLOCK) { assert.ok(readers > 0, `cpu${e.cpu} leaves a read section nobody entered`); readers--; }
    }
    assert.ok(writes > 10);
  });
});
