// Xen's lock primitives (lib/sync) on real worker_threads: mutual exclusion, FIFO tickets, the queued rwlock's
// reader/writer rules (locktorture's checks), recursion, misuse as model crashes, lock-order inversion, profiling.
// Workers run workers/locktorture.ts through bench/torture.ts; every wait has a deadline.

import assert from 'node:assert/strict';
import { M, CTL } from '../../../lib/mem/machine.js';
import { xzalloc, xfree, ModelCrash, type Outcome } from '../../../lib/mem/index.js';
import {
  spin_lock, spin_unlock, spin_trylock, spin_is_locked, spin_lock_init, spin_lock_recursive, spin_unlock_recursive,
  spin_recurse_count, spin_barrier, read_lock, read_unlock, read_trylock, write_lock, write_unlock, write_trylock,
  rwlock_init, rw_is_locked, rw_is_write_locked, rw_readers, lockdepReports, lockdepCount, clearLockdepReports,
  lockStats, setProfiling, SPIN, RW, SPINLOCK_WORDS, RWLOCK_WORDS, _QW_WAITING, _QW_WMASK, _QW_LOCKED,
} from '../../../lib/sync/index.js';
import { TORTURE, TS, type JobResult } from '../../../workers/locktorture.js';
import { boot, pool, closePools, newLog, logOf, until, sleep, CLS, type SyncMachine } from '../../fixtures/sync-harness.js';

function expectCrash(fn: () => unknown, kind: Outcome, message?: RegExp): ModelCrash {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ModelCrash)) assert.fail(`expected a ModelCrash '${kind}', got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected a ModelCrash '${kind}', the call returned`);
}

function ok(r: JobResult): Extract<JobResult, { ok: true }> {
  if (!r.ok) assert.fail(`cpu${r.cpu}: ${r.kind}: ${r.message}`);
  return r;
}

/** A spinlock (and its counter) in a live heap object. */
function newSpin(cls: number = CLS.SPIN): { p: number; lock: number; counter: number; state: number } {
  const p = xzalloc(TORTURE);
  spin_lock_init(p + TORTURE.lock, cls);
  return { p, lock: p + TORTURE.lock, counter: p + TORTURE.counter, state: p + TORTURE.state };
}
function newRw(cls: number = CLS.RW): { p: number; lock: number; counter: number; state: number } {
  const p = xzalloc(TORTURE);
  rwlock_init(p + TORTURE.lock, cls);
  return { p, lock: p + TORTURE.lock, counter: p + TORTURE.counter, state: p + TORTURE.state };
}

const tail = (l: number): number => M[l] >>> 16;
const head = (l: number): number => M[l] & 0xffff;

describe('sync: Xen locks on real threads', function () {
  this.timeout(30000);
  let sm: SyncMachine;
  beforeEach(() => { sm = boot(); });
  afterEach(closePools);

  describe('spinlock_t (ticket lock)', () => {
    it('layout: one 32-bit ticket word, offsets exported, the wait block inside SPINLOCK_WORDS', () => {
      assert.equal(SPIN.tickets, 0);
      assert.ok(SPIN.wait + 17 <= SPINLOCK_WORDS);
      assert.ok(RW.cls < RWLOCK_WORDS && RW.sleepers < RWLOCK_WORDS && RW.lock === 1);
      const { lock } = newSpin();
      spin_lock(lock);
      assert.equal(tail(lock), 1); assert.equal(head(lock), 0);
      spin_unlock(lock);
      assert.equal(M[lock], 0x10001, 'head and tail are 16-bit halves of one word');
    });

    it('mutual exclusion: 4 workers × 25 000 non-atomic read-modify-writes lose no update', async () => {
      const { lock, counter } = newSpin();
      const pl = await pool(sm, 4);
      const r = await pl.run(Array.from({ length: 4 }, () => ({ kind: 'spin' as const, lock, counter, iters: 25000, hold: 8 })), 20000);
      r.results.forEach(ok);
      assert.equal(M[counter], 100000);
      assert.equal(head(lock), tail(lock), 'free at the end');
    });

    it('mutual exclusion with 8 workers on 2+ cores (oversubscribed: waiters park and are woken one by one)', async () => {
      const { lock, counter } = newSpin();
      const pl = await pool(sm, 8);
      const r = await pl.run(Array.from({ length: 8 }, () => ({ kind: 'spin' as const, lock, counter, iters: 5000, hold: 4 })), 25000);
      r.results.forEach(ok);
      assert.equal(M[counter], 40000);
    });

    it('FIFO: waiters are served in the order they took their tickets', async () => {
      const { lock } = newSpin();
      const log = newLog(64);
      const n = 6;
      const pl = await pool(sm, n);
      spin_lock(lock); // cpu0 holds it while the workers queue up one by one
      const results: Promise<JobResult>[] = [];
      for (let i = 0; i < n; i++) {
        results.push(pl.start(i, { kind: 'once', op: 'spin', lock, log, tag: i + 1, holdMs: 0 }, 10000));
        await until(() => tail(lock) === i + 2, 5000, `worker ${i + 1} to take ticket ${i + 1}`);
      }
      await sleep(40); // long enough for every waiter to give up spinning and park
      assert.equal(M[log], 0, 'nobody got in while cpu0 held the lock');
      spin_unlock(lock);
      (await Promise.all(results)).forEach(ok);
      const expected = Array.from({ length: n }, (_, i) => [(i + 1) * 2, (i + 1) * 2 + 1]).flat();
      assert.deepEqual(logOf(M, log), expected);
    });

    it('FIFO under load: the tickets seen inside the critical section follow acquisition order exactly', async () => {
      const { lock, counter } = newSpin();
      const iters = 3000, n = 4;
      const log = newLog(2 * iters * n);
      const pl = await pool(sm, n);
      const r = await pl.run(Array.from({ length: n }, () => ({ kind: 'spin' as const, lock, counter, iters, log })), 20000);
      r.results.forEach(ok);
      const entries = logOf(M, log);
      assert.equal(entries.length, 2 * iters * n);
      let switches = 0;
      for (let k = 1; k < iters * n; k++) {
        assert.equal(entries[2 * k + 1], (entries[2 * k - 1] + 1) & 0xffff, `acquisition ${k} holds ticket ${entries[2 * k + 1]} after ${entries[2 * k - 1]}`);
        if (entries[2 * k] !== entries[2 * k - 2]) switches++;
      }
      assert.ok(switches > 0, 'the workers interleaved');
    });

    it('trylock fails while another CPU holds the lock and succeeds once it is free', async () => {
      const { lock } = newSpin();
      const log = newLog(8);
      const pl = await pool(sm, 1);
      const done = pl.start(0, { kind: 'once', op: 'spin', lock, log, tag: 1, holdMs: 150 }, 5000);
      await until(() => M[log] >= 1, 5000, 'the worker to hold the lock');
      assert.equal(spin_trylock(lock), false);
      assert.equal(spin_is_locked(lock), true, 'a plain lock: locked by anyone');
      ok(await done);
      assert.equal(spin_trylock(lock), true);
      spin_unlock(lock);
    });

    it('spin_barrier waits for the current holder to release once (sleeping waiters are notified)', async () => {
      const { lock } = newSpin();
      const log = newLog(8);
      const pl = await pool(sm, 1);
      spin_barrier(lock); // free: returns at once
      spin_lock(lock);
      const done = pl.start(0, { kind: 'once', op: 'barrier', lock, log, tag: 1, holdMs: 0 }, 5000);
      await until(() => M[lock + SPIN.sleepers] === 1, 5000, 'the barrier waiter to sleep');
      assert.equal(M[log], 0, 'the barrier waits while the lock is held');
      spin_unlock(lock);
      ok(await done);
      assert.deepEqual(logOf(M, log), [2, 3]);
      assert.equal(spin_trylock(lock), true, 'the barrier took no ticket');
      spin_unlock(lock);
    });

    it('recursive spinlock: nesting counts, spin_is_locked has L21 semantics, others wait for the last unlock', async () => {
      const { lock } = newSpin();
      const log = newLog(8);
      for (let i = 1; i <= 3; i++) { spin_lock_recursive(lock); assert.equal(spin_recurse_count(lock), i); }
      assert.equal(spin_is_locked(lock), true, 'recursive lock held by this CPU');
      assert.equal(tail(lock) - head(lock), 1, 'one ticket for all nesting levels');
      const pl = await pool(sm, 1);
      const done = pl.start(0, { kind: 'once', op: 'spin', lock, log, tag: 1, holdMs: 0 }, 5000);
      await until(() => tail(lock) - head(lock) === 2, 5000, 'the worker to queue');
      spin_unlock_recursive(lock); spin_unlock_recursive(lock);
      assert.equal(spin_recurse_count(lock), 1);
      await sleep(20);
      assert.equal(M[log], 0, 'still held after 2 of 3 unlocks');
      spin_unlock_recursive(lock);
      ok(await done);
      assert.deepEqual(logOf(M, log), [2, 3]);
      assert.equal(spin_recurse_count(lock), 0);
    });

    it('recursive spinlock held by another CPU: spin_is_locked is false here (L21: recurse_cpu == this CPU)', async () => {
      const { lock } = newSpin();
      const log = newLog(8);
      const pl = await pool(sm, 1);
      const done = pl.start(0, { kind: 'once', op: 'recursive', lock, log, tag: 1, holdMs: 150 }, 5000);
      await until(() => M[log] >= 1, 5000, 'the worker to hold it');
      assert.equal(spin_recurse_count(lock), 2);
      assert.equal(spin_is_locked(lock), false);
      assert.equal(spin_trylock(lock), false);
      ok(await done);
    });

    it('recursive spinlock: mutual exclusion across 4 workers nesting twice', async () => {
      const { lock, counter } = newSpin();
      const pl = await pool(sm, 4);
      const r = await pl.run(Array.from({ length: 4 }, () => ({ kind: 'spin' as const, lock, counter, iters: 5000, recursive: true })), 20000);
      r.results.forEach(ok);
      assert.equal(M[counter], 20000);
    });

    it('recursion deeper than 15 is a failed ASSERT; unbalanced recursive unlock is a BUG', () => {
      const { lock } = newSpin();
      for (let i = 0; i < 15; i++) spin_lock_recursive(lock);
      expectCrash(() => spin_lock_recursive(lock), 'assert', /recurse_cnt/);
      const other = newSpin();
      expectCrash(() => spin_unlock_recursive(other.lock), 'bug');
    });
  });

  describe('misuse is a model crash', () => {
    it('unlocking a lock that is not held: BUG', () => {
      const s = newSpin(), rw = newRw();
      expectCrash(() => spin_unlock(s.lock), 'bug', /spin_unlock/);
      expectCrash(() => read_unlock(rw.lock), 'bug', /read_unlock/);
      expectCrash(() => write_unlock(rw.lock), 'bug', /write_unlock/);
      read_lock(rw.lock);
      expectCrash(() => write_unlock(rw.lock), 'bug', /not the writer/);
      read_unlock(rw.lock);
    });

    it('unlocking a lock another CPU holds: BUG', async () => {
      const { lock } = newSpin();
      const log = newLog(8);
      const pl = await pool(sm, 1);
      const done = pl.start(0, { kind: 'once', op: 'spin', lock, log, tag: 1, holdMs: 100 }, 5000);
      await until(() => M[log] >= 1, 5000, 'the worker to hold it');
      expectCrash(() => spin_unlock(lock), 'bug', /does not hold/);
      ok(await done);
    });

    it('taking or releasing a lock in freed heap memory: use-after-free', () => {
      const s = newSpin(), rw = newRw(), held = newSpin();
      spin_lock(held.lock);
      xfree(s.p, 'test'); xfree(rw.p, 'test'); xfree(held.p, 'test');
      expectCrash(() => spin_lock(s.lock), 'use-after-free', /spin_lock/);
      expectCrash(() => spin_unlock(held.lock), 'use-after-free', /spin_unlock/);
      const rw2 = newRw(); xfree(rw2.p, 'test');
      expectCrash(() => read_lock(rw.lock), 'use-after-free');
      expectCrash(() => write_lock(rw2.lock), 'use-after-free');
      const s3 = newSpin(); xfree(s3.p, 'test');
      expectCrash(() => spin_trylock(s3.lock), 'use-after-free');
      const rw3 = newRw(); xfree(rw3.p, 'test');
      expectCrash(() => write_trylock(rw3.lock), 'use-after-free');
    });

    it('a CPU spinning (or sleeping) on a lock whose memory is freed under it: use-after-free', async () => {
      const s = newSpin(), rw = newRw();
      const log = newLog(8);
      const pl = await pool(sm, 2);
      spin_lock(s.lock);
      write_lock(rw.lock);
      const a = pl.start(0, { kind: 'once', op: 'spin', lock: s.lock, log, tag: 1, holdMs: 0 }, 5000);
      const b = pl.start(1, { kind: 'once', op: 'read', lock: rw.lock, log, tag: 2, holdMs: 0 }, 5000);
      await until(() => tail(s.lock) === 2 && tail(rw.lock + RW.lock) === 1, 5000, 'both workers to wait');
      await sleep(30); // past the spin phase: they sleep
      xfree(s.p, 'test'); xfree(rw.p, 'test');
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(ra.ok, false); assert.equal(rb.ok, false);
      if (!ra.ok) assert.equal(ra.kind, 'use-after-free', ra.message);
      if (!rb.ok) assert.equal(rb.kind, 'use-after-free', rb.message);
      assert.equal(M[log], 0);
    });

    it('a waiter unwinds with TrialStopped when the trial is stopped', async () => {
      const s = newSpin();
      const log = newLog(8);
      const pl = await pool(sm, 1);
      spin_lock(s.lock);
      const a = pl.start(0, { kind: 'once', op: 'spin', lock: s.lock, log, tag: 1, holdMs: 0 }, 5000);
      await until(() => tail(s.lock) === 2, 5000, 'the worker to wait');
      await sleep(20);
      const t0 = Date.now();
      Atomics.store(M, CTL.STOP, 1);
      const r = await a;
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.kind, 'stopped');
      assert.ok(Date.now() - t0 < 1000);
      Atomics.store(M, CTL.STOP, 0);
      spin_unlock(s.lock);
    });
  });

  describe('rwlock_t (queued rwlock)', () => {
    it('many readers at once', async () => {
      const { lock, state } = newRw();
      const pl = await pool(sm, 4);
      const r = await pl.run(Array.from({ length: 4 }, () => ({ kind: 'rw' as const, lock, state, iters: 5000, writePermille: 0, hold: 4000 })), 20000);
      const max = Math.max(...r.results.map((x) => ok(x).maxReaders));
      assert.ok(max > 1, `observed at most ${max} concurrent reader(s)`);
      assert.equal(M[state + TS.ERRORS], 0);
      assert.equal(rw_is_locked(lock), false);
    });

    it('locktorture: a reader never sees a writer inside and a writer is always alone (4 and 8 workers)', async () => {
      for (const n of [4, 8]) {
        const { lock, state } = newRw();
        const pl = await pool(sm, n);
        const iters = n === 4 ? 20000 : 8000;
        const r = await pl.run(Array.from({ length: n }, (_, i) => ({ kind: 'rw' as const, lock, state, iters, writePermille: 200, hold: 40, seed: i + 7 })), 25000);
        const res = r.results.map(ok);
        const writes = res.reduce((a, x) => a + x.writes, 0);
        assert.equal(M[state + TS.ERRORS], 0, 'locktorture errors');
        assert.equal(M[state + TS.WRITES], writes, 'no lost update under the write lock');
        assert.equal(M[state + TS.READS] + writes, n * iters);
        assert.ok(writes > 0 && M[state + TS.READS] > 0);
        assert.equal(M[lock], 0, 'cnts back to 0');
        await closePools();
      }
    });

    it('a queued writer blocks new readers until it has been and gone', async () => {
      const { lock } = newRw();
      const log = newLog(16);
      const pl = await pool(sm, 2);
      read_lock(lock); // cpu0 reads
      const w = pl.start(0, { kind: 'once', op: 'write', lock, log, tag: 1, holdMs: 30 }, 5000);
      await until(() => (M[lock] & _QW_WMASK) === _QW_WAITING, 5000, 'the writer to queue (WAITING)');
      assert.equal(rw_is_locked(lock), true);
      assert.equal(rw_is_write_locked(lock), false);
      const r = pl.start(1, { kind: 'once', op: 'read', lock, log, tag: 2, holdMs: 0 }, 5000);
      const q = lock + RW.lock;
      await until(() => tail(q) - head(q) === 2, 5000, 'the late reader to queue behind the writer');
      await sleep(20);
      assert.equal(M[log], 0, 'neither the writer nor the late reader got in');
      assert.equal(rw_readers(lock), 1, 'only cpu0 reads');
      assert.equal(read_trylock(lock), false, 'read_trylock fails while a writer waits');
      read_unlock(lock);
      ok(await w); ok(await r);
      assert.deepEqual(logOf(M, log), [2, 3, 4, 5], 'writer in, writer out, then the reader');
      assert.equal(M[lock], 0);
    });

    it('write_trylock fails with any reader present; read_trylock and write_trylock fail with a writer', async () => {
      const { lock } = newRw();
      const log = newLog(16);
      const pl = await pool(sm, 1);
      const rd = pl.start(0, { kind: 'once', op: 'read', lock, log, tag: 1, holdMs: 120 }, 5000);
      await until(() => M[log] >= 1, 5000, 'the reader');
      assert.equal(write_trylock(lock), false);
      assert.equal(read_trylock(lock), true, 'readers share');
      assert.equal(rw_readers(lock), 2);
      read_unlock(lock);
      ok(await rd);
      const wr = pl.start(0, { kind: 'once', op: 'write', lock, log, tag: 2, holdMs: 120 }, 5000);
      await until(() => M[log] >= 3, 5000, 'the writer');
      assert.equal(rw_is_write_locked(lock), true);
      assert.equal(M[lock] & _QW_WMASK, _QW_LOCKED);
      assert.equal(read_trylock(lock), false);
      assert.equal(write_trylock(lock), false);
      ok(await wr);
      assert.equal(write_trylock(lock), true);
      assert.equal(read_trylock(lock), true, 'the write holder may take read locks');
      read_unlock(lock);
      write_unlock(lock);
      assert.equal(M[lock], 0);
    });
  });

  describe('lockdep', () => {
    it('a lock-order inversion between two classes is reported, with both names, before any deadlock', async () => {
      const a = newSpin(CLS.A), b = newRw(CLS.B);
      const pl = await pool(sm, 2);
      const r1 = ok(await pl.start(0, { kind: 'nest', locks: [{ op: 'spin', lock: a.lock }, { op: 'read', lock: b.lock }] }, 5000));
      assert.deepEqual(r1.lockdep, []);
      assert.equal(lockdepCount(), 0);
      // The other order, on another CPU, later: the two never meet, so nothing deadlocks; lockdep reports anyway.
      const r2 = ok(await pl.start(1, { kind: 'nest', locks: [{ op: 'write', lock: b.lock }, { op: 'spin', lock: a.lock }] }, 5000));
      assert.equal(lockdepCount(), 1);
      assert.equal(r2.lockdep.length, 1);
      assert.match(r2.lockdep[0], /lock-order inversion/);
      assert.match(r2.lockdep[0], /B_lock -> A_lock/);
      assert.match(r2.lockdep[0], /A_lock -> B_lock/);
    });

    it('on one CPU, in the main thread too', () => {
      clearLockdepReports();
      const a = newSpin(CLS.A), b = newSpin(CLS.B);
      spin_lock(a.lock); spin_lock(b.lock); spin_unlock(b.lock); spin_unlock(a.lock);
      assert.equal(lockdepCount(), 0);
      spin_lock(b.lock); spin_lock(a.lock); spin_unlock(a.lock); spin_unlock(b.lock);
      assert.equal(lockdepCount(), 1);
      assert.equal(lockdepReports().length, 1);
      assert.match(lockdepReports()[0].message, /A_lock/);
      assert.match(lockdepReports()[0].message, /B_lock/);
    });
  });

  describe('lock profiling', () => {
    it('counts acquisitions and contended acquisitions with plausible wait and hold times', async () => {
      sm = boot({ profile: true });
      const { lock, counter } = newSpin();
      const pl = await pool(sm, 4);
      const r = await pl.run(Array.from({ length: 4 }, () => ({ kind: 'spin' as const, lock, counter, iters: 20000, hold: 200 })), 20000);
      r.results.forEach(ok);
      assert.equal(M[counter], 80000);
      const st = lockStats().find((s) => s.name === 'torture_spin');
      assert.ok(st, 'a row for the class');
      assert.equal(st.acquisitions, 80000);
      assert.ok(st.contended > 0 && st.contended <= st.acquisitions, `contended ${st.contended}`);
      assert.ok(st.totalWaitNs > 0 && st.maxWaitNs > 0 && st.maxWaitNs <= st.totalWaitNs);
      assert.ok(st.maxWaitNs >= st.totalWaitNs / st.contended, 'max wait >= mean wait');
      assert.ok(st.totalHoldNs > 0 && st.maxHoldNs >= st.totalHoldNs / st.acquisitions, 'max hold >= mean hold');
      assert.ok(st.totalHoldNs / st.acquisitions < 1e6, 'mean hold under 1 ms');
    });

    it('switched off: nothing is counted and the locks still work', async () => {
      sm = boot({ profile: false, lockdep: false });
      const { lock, counter } = newSpin();
      const pl = await pool(sm, 4);
      const r = await pl.run(Array.from({ length: 4 }, () => ({ kind: 'spin' as const, lock, counter, iters: 10000 })), 20000,
        { profile: false, lockdep: false, trace: false });
      r.results.forEach(ok);
      assert.equal(M[counter], 40000);
      assert.deepEqual(lockStats(), []);
      setProfiling(true);
      spin_lock(lock); spin_unlock(lock);
      assert.equal(lockStats().find((s) => s.name === 'torture_spin')?.acquisitions, 1, 'switched back on');
      setProfiling(false);
    });
  });
});
