// Xen's lock word layouts, per generation of the model. Late 2021: the rwlock's cnts word holds the writer CPU in
// bits 0-11, WAITING 0x1000, LOCKED 0x3000, readers from bit 14; a spinlock's CPU fields are 12 bits and the
// recursive lock packs recurse_cpu:12 / recurse_cnt:4. HEAD: 77b219f915 widened the rwlock's CPU field to 14 bits
// (WAITING 0x4000, LOCKED 0xc000, readers from bit 16) and made _can_read_lock also require cnts <= INT_MAX;
// c286bb93d2 gave the spinlock a 16-bit CPU field (SPINLOCK_NO_CPU 0xffff); 475080b6b2 split recursive locks
// into rspinlock_t with uint16_t recurse_cpu and uint8_t recurse_cnt. A machine says which it runs (CTL.FLAGS);
// every thread that attaches to it takes that layout.

import { CTL, M, onAttach } from '../mem/machine.js';

export type LockLayout = 'l21' | 'head';
/** CTL.FLAGS bit: the machine's locks use HEAD's layouts. */
export const FLAG_HEAD_LOCKS = 0x200;

export let lockLayout: LockLayout = 'l21';
export let SPINLOCK_NO_CPU = 0xfff;
/** The recursive lock's recurse_cpu mask and the shift of recurse_cnt in the lab's one recurse word. */
export let RECURSE_CPU_MASK = 0xfff;
export let RECURSE_CNT_SHIFT = 12;
export let _QW_SHIFT = 12;
export let _QW_CPUMASK = 0xfff;
export let _QW_WAITING = 0x1000;
export let _QW_LOCKED = 0x3000;
export let _QW_WMASK = 0x3000;
export let _QR_SHIFT = 14;
export let _QR_BIAS = 1 << 14;
/** HEAD's _can_read_lock: cnts <= INT_MAX, i.e. the reader count has not overflowed into the sign bit. */
export let READ_NEEDS_NONNEGATIVE = false;

export function setLockLayout(l: LockLayout): void {
  lockLayout = l;
  const head = l === 'head';
  SPINLOCK_NO_CPU = head ? 0xffff : 0xfff;
  RECURSE_CPU_MASK = SPINLOCK_NO_CPU;
  RECURSE_CNT_SHIFT = head ? 16 : 12;
  _QW_SHIFT = head ? 14 : 12;
  _QW_CPUMASK = (1 << _QW_SHIFT) - 1;
  _QW_WAITING = 1 << _QW_SHIFT;
  _QW_LOCKED = 3 << _QW_SHIFT;
  _QW_WMASK = 3 << _QW_SHIFT;
  _QR_SHIFT = head ? _QW_SHIFT + 2 : 14;
  _QR_BIAS = 1 << _QR_SHIFT;
  READ_NEEDS_NONNEGATIVE = head;
}

onAttach(() => setLockLayout((M[CTL.FLAGS] & FLAG_HEAD_LOCKS) !== 0 ? 'head' : 'l21'));
