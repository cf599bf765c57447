// Lock word layouts of both generations (lib/sync/layouts.ts): late 2021 (4ed7d5525f) and HEAD (77b219f915
// rwlock cnts, c286bb93d2 16-bit spinlock CPU field, 475080b6b2 rspinlock_t), chosen per machine.

import assert from 'node:assert/strict';
import { createMachine, attach, setCpu, M } from '../../../lib/mem/machine.js';
import {
  spin_lock_init, spin_lock, spin_unlock, spin_lock_recursive, spin_unlock_recursive, rwlock_init, read_lock, read_unlock,
  write_lock, write_unlock, read_trylock, SPIN, RWLOCK_WORDS, SPINLOCK_WORDS, FLAG_HEAD_LOCKS, lockLayout,
} from '../../../lib/sync/index.js';
import { lockInfo } from '../../../lib/run/waitfor.js';

function machine(head: boolean): { spin: number; rw: number } {
  const m = createMachine({ threads: 8, lockClasses: ['a', 'b'], extraFlags: head ? FLAG_HEAD_LOCKS : 0, profile: false, lockdep: false });
  attach(m, 5);
  const base = m.layout.heap.base + 64;
  const spin = base, rw = base + SPINLOCK_WORDS + 8;
  spin_lock_init(spin, 1);
  rwlock_init(rw, 2);
  return { spin, rw };
}

describe('lock layouts per generation', () => {
  after(() => { setCpu(0); });

  it('late 2021: writer CPU in bits 0-11, LOCKED 0x3000, readers from bit 14, recurse_cpu:12 / recurse_cnt:4', () => {
    const { spin, rw } = machine(false);
    assert.equal(lockLayout, 'l21');
    write_lock(rw);
    assert.equal(M[rw], 0x3000 | 5);
    write_unlock(rw);
    read_lock(rw);
    assert.equal(M[rw], 1 << 14);
    read_unlock(rw);
    assert.equal(M[spin + SPIN.debug], 0xfff, 'SPINLOCK_NO_CPU');
    spin_lock_recursive(spin); spin_lock_recursive(spin);
    assert.equal(M[spin + SPIN.recurse], (2 << 12) | 5);
    spin_unlock_recursive(spin); spin_unlock_recursive(spin);
    assert.equal(M[spin + SPIN.recurse], 0xfff);
  });

  it('HEAD: writer CPU in bits 0-13, LOCKED 0xc000, readers from bit 16, 16-bit CPU fields, rspinlock_t recurse_cnt:8', () => {
    const { spin, rw } = machine(true);
    assert.equal(lockLayout, 'head');
    write_lock(rw);
    assert.equal(M[rw], 0xc000 | 5);
    write_unlock(rw);
    read_lock(rw);
    assert.equal(M[rw], 1 << 16);
    read_unlock(rw);
    assert.equal(M[spin + SPIN.debug], 0xffff, 'SPINLOCK_NO_CPU');
    spin_lock(spin);
    assert.equal(M[spin + SPIN.debug], 5);
    spin_unlock(spin);
    spin_lock_recursive(spin); spin_lock_recursive(spin);
    assert.equal(M[spin + SPIN.recurse], (2 << 16) | 5);
    spin_unlock_recursive(spin); spin_unlock_recursive(spin);
    assert.equal(M[spin + SPIN.recurse], 0xffff);
  });

  it('HEAD _can_read_lock also requires cnts <= INT_MAX (rwlock.h); late 2021 does not', () => {
    for (const head of [false, true]) {
      const { rw } = machine(head);
      M[rw] = 0x80000000 | 0;        // a reader count run into the sign bit
      assert.equal(read_trylock(rw), !head, head ? 'HEAD refuses' : 'L21 takes it');
    }
  });

  it('a lock\'s kind is recorded at init, whatever its words hold later', () => {
    for (const head of [false, true]) {
      const { spin, rw } = machine(head);
      assert.deepEqual(lockInfo(spin), { kind: 'spinlock', cls: 'a' });
      assert.deepEqual(lockInfo(rw), { kind: 'rwlock', cls: 'b' });
      assert.deepEqual(lockInfo(rw + RWLOCK_WORDS + 4), { kind: 'word', cls: '?' });
    }
  });
});
