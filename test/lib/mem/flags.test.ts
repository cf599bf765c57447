// CTL.FLAGS is one word shared by several layers, each owning some bits. Two owners of one bit silently changed
// each other's meaning: VPCI_FUTEX=all (futex lock waits) once set the bit that makes a machine a release build
// of Xen, whose ASSERT()s evaluate nothing.

import assert from 'node:assert/strict';
import { FLAG_PROFILE, FLAG_LOCKDEP, FLAG_NO_LOCK_TRACE } from '../../../lib/sync/profile.js';
import { FLAG_HEAP_REUSE } from '../../../lib/mem/heap.js';
import { FLAG_HEAD_LOCKS } from '../../../lib/sync/layouts.js';
import { FLAG_XEN_RELEASE } from '../../../lib/mem/crash.js';
import { FLAG_WAIT_DECIDED, FLAG_FUTEX, FLAG_FUTEX_LOCKS } from '../../../lib/sched/futex.js';

describe('CTL.FLAGS bits', () => {
  it('every owner has bits of its own: one bit each, no two the same', () => {
    const flags = { FLAG_PROFILE, FLAG_LOCKDEP, FLAG_NO_LOCK_TRACE, FLAG_HEAP_REUSE, FLAG_HEAD_LOCKS, FLAG_XEN_RELEASE, FLAG_WAIT_DECIDED, FLAG_FUTEX, FLAG_FUTEX_LOCKS };
    let seen = 0;
    for (const [name, bit] of Object.entries(flags)) {
      assert.ok(bit > 0 && (bit & (bit - 1)) === 0, `${name} = ${bit} is not one bit`);
      assert.equal(seen & bit, 0, `${name} = 0x${bit.toString(16)} is another flag's bit`);
      seen |= bit;
    }
  });
});
