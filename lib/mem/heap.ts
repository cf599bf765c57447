// Xen's xzalloc/xfree over the shared heap. Pointers are word offsets into the SharedArrayBuffer; 0 is NULL.
// Every model dereference goes through chk(): NULL, freed (poisoned, quarantined) and mistyped objects become
// classified model crashes, the way KASAN turns a stray access into a report instead of silent corruption.
// Xen itself does not fault on most of these: each report says what Xen would do (see xenWould below). With
// reuse on (no quarantine, as Xen's xmalloc pool may hand a freed block straight back), a stale pointer can land
// on a new object of the same type: no crash at all, and the damage shows as the wrong device's state.

import { CTL, M, SHADOW, LAYOUT, MAX_SIZE_CLASS, QUARANTINE, region, stopped, onAttach, onLayout } from './machine.js';
import { crash, TrialStopped } from './crash.js';
import { structById, typeSlot, typeSlotId, TYPE_SLOT_MASK, type Struct, type Ptr } from './layout.js';
import { fp, fpOn, fpRecording } from './footprint.js';

/** NULL, as a pointer to any struct (Ptr<never> is assignable to every Ptr<N>). */
export const NULL = 0 as Ptr<never>;
export const POISON = 0x6b6b6b6b;          // Linux's POISON_FREE byte, four times
const LIVE = 1, FREED = 2;                 // block state (low byte of the header tag) and shadow values
const HDR = 2;                             // header words: [tag = typeId << 8 | state, size in words]

/** CTL.FLAGS bit: freed blocks go straight back to the free lists (no quarantine). */
export const FLAG_HEAP_REUSE = 0x100;

let heapBase = 0, heapWords = 0, freeBase = 0, quarBase = 0, reuse = false;
onLayout(() => {
  heapBase = LAYOUT.heap.base;
  heapWords = LAYOUT.heap.words;
  freeBase = region('freelists').base;
  quarBase = region('quarantine').base;
});
onAttach(() => { reuse = (M[CTL.FLAGS] & FLAG_HEAP_REUSE) !== 0; });

const tagOf = (T: Struct, state: number): number => (T.id << 8) | state;

// The allocator's own lock is lab machinery (Xen's xmalloc lock is not what we study): test-and-set with a sleep.
// Sleepers count themselves in HEAP_SLEEPERS so that an unlock notifies only when someone sleeps: Atomics.notify
// goes through a process-wide mutex in V8, too dear to pay on every xzalloc/xfree.
function heapLock(): void {
  for (let spins = 0; Atomics.compareExchange(M, CTL.HEAP_LOCK, 0, 1) !== 0; spins++) {
    if (spins > 64) {
      Atomics.add(M, CTL.HEAP_SLEEPERS, 1);
      Atomics.wait(M, CTL.HEAP_LOCK, 1, 5);
      Atomics.sub(M, CTL.HEAP_SLEEPERS, 1);
      if (stopped()) throw new TrialStopped();
    }
  }
}
function heapUnlock(): void {
  Atomics.store(M, CTL.HEAP_LOCK, 0);
  // Seq-cst store then load; a sleeper adds itself, then waits only while the lock word is still 1: either it sees
  // our 0 or we see its count. (A sleeper's 5 ms bound covers anything else.)
  if (Atomics.load(M, CTL.HEAP_SLEEPERS) !== 0) Atomics.notify(M, CTL.HEAP_LOCK, 1);
}

let allocFault: (() => boolean) | null = null;
/** lib/xen/fault.ts: under verify, every allocation is a fault point (the model's -ENOMEM). */
export function setAllocFault(f: (() => boolean) | null): void { allocFault = f; }

/** Allocate and zero a struct; returns NULL when the heap is exhausted (callers turn it into -ENOMEM). */
export function xzalloc<N extends string>(T: Struct<N>): Ptr<N> {
  return xzalloc_words(T, T.words);
}

/** Variable-size allocation of a typed block (arrays of ranges, for instance). */
export function xzalloc_words<N extends string>(T: Struct<N>, words: number): Ptr<N> {
  if (fpOn) fp(CTL.HEAP_LOCK, CTL.HEAP_LIVE + 1); // the allocator's state: every allocation and free conflict
  if (allocFault !== null && allocFault()) return NULL as Ptr<N>;
  heapLock();
  let p: number = NULL;
  try {
    if (words <= MAX_SIZE_CLASS && M[freeBase + words] !== 0) {
      p = M[freeBase + words];
      M[freeBase + words] = M[p];
    } else {
      const bump = M[CTL.HEAP_BUMP];
      if (bump + words + HDR <= heapBase + heapWords) {
        p = bump;
        M[CTL.HEAP_BUMP] = bump + words + HDR;
      }
    }
    if (p !== NULL) {
      if (fpOn) fp(p - HDR, p + words);
      fillWords(p, words, 0, LIVE);
      M[p - 1] = words;
      M[p - 2] = tagOf(T, LIVE);
      M[CTL.HEAP_LIVE]++;
    }
  } finally {
    heapUnlock();
  }
  return p as Ptr<N>;
}

/** Xen's xfree: NULL is a no-op; a second free is a double free; the block is poisoned and quarantined. */
export function xfree(p: number, where: string): void {
  if (p === NULL) return;
  if (p === POISON) crash('use-after-free', where, `xfree of a pointer read from freed memory (${hex(p)}); ${xenWould('poisoned-pointer', 'write')}`);
  const i = p - heapBase;
  if (i < HDR || i >= heapWords) crash('bug', where, `xfree of wild pointer ${hex(p)}`);
  let error: [kind: 'double-free' | 'bug', detail: string] | undefined;
  if (fpOn) { fp(CTL.HEAP_LOCK, CTL.HEAP_LIVE + 1); fp(p - HDR, p + Math.max(1, M[p - 1] | 0)); }
  heapLock();
  try {
    const tag = M[p - 2];
    if ((tag & 0xff) === FREED) error = ['double-free', `double free of struct ${typeName(tag)} at ${hex(p)}`];
    else if ((tag & 0xff) !== LIVE || SHADOW[i] !== LIVE) error = ['bug', `xfree of ${hex(p)}, not the start of a live block`];
    else release(p, tag);
  } finally {
    heapUnlock();
  }
  if (error) crash(error[0], where, error[1]);
}

/** Set a block's words to `value` and their shadow to `shadow`. TypedArray fill is a call into the C++ runtime
 * (~100 ns): a struct's few words are cheaper set here. */
function fillWords(p: number, words: number, value: number, shadow: number): void {
  const i = p - heapBase;
  if (words > SHORT_FILL) { M.fill(value, p, p + words); SHADOW.fill(shadow, i, i + words); return; }
  for (let k = 0; k < words; k++) { M[p + k] = value; SHADOW[i + k] = shadow; }
}
const SHORT_FILL = 32;

function release(p: number, tag: number): void {
  const i = p - heapBase;
  const words = M[p - 1];
  M[p - 2] = (tag & ~0xff) | FREED;
  fillWords(p, words, POISON, FREED);
  M[CTL.HEAP_LIVE]--;
  if (reuse) { if (words <= MAX_SIZE_CLASS) { M[p] = M[freeBase + words]; M[freeBase + words] = p; } return; }
  // Quarantine: a FIFO of freed blocks; only the oldest, once it falls out, becomes reusable.
  const n = M[CTL.HEAP_QCOUNT];
  const head = M[CTL.HEAP_QHEAD];
  if (n < QUARANTINE) {
    M[quarBase + ((head + n) % QUARANTINE)] = p;
    M[CTL.HEAP_QCOUNT] = n + 1;
    return;
  }
  const victim = M[quarBase + head];
  M[quarBase + head] = p;
  M[CTL.HEAP_QHEAD] = (head + 1) % QUARANTINE;
  const vw = M[victim - 1];
  if (vw <= MAX_SIZE_CLASS) { M[victim] = M[freeBase + vw]; M[freeBase + vw] = victim; }
}

/**
 * The one checked dereference path: returns p if it points at a live struct of type T, else ends the CPU with the
 * crash Xen would have suffered (page fault on NULL, KASAN-style use-after-free, type confusion).
 */
export function chk<N extends string>(p: number, T: Struct<N>, where: string, access: Access = 'read'): Ptr<N> {
  if (fpOn && fpRecording()) fp(p - HDR, p + Math.max(T.words, M[p - 1] | 0)); // arrays: the whole block
  if ((p - heapBase) >>> 0 < heapWords) {
    const tag = M[p - 2], k = (tag >>> 8) & TYPE_SLOT_MASK;
    if (typeSlot[k] === T && typeSlotId[k] === tag >>> 8 && (tag & 0xff) === LIVE) return p as Ptr<N>;
    if (tag === ((T.id << 8) | LIVE)) return p as Ptr<N>; // T shares its slot (lib/mem/layout.ts)
  }
  return badPointer(p, T, where, access);
}

/**
 * chk for a pointer into the middle of a block (an element of a struct's trailing array, such as an MSI-X entry,
 * which is all Xen's arch hooks are given): the `words` at addr must lie in a live block. The block's type is not
 * checked (its header is elsewhere); the caller's struct is named in the report.
 */
export function chkMember(addr: number, words: number, where: string, access: Access = 'read'): number {
  const i = addr - heapBase;
  if (fpOn) fp(addr, addr + words);
  if (i >= HDR && i + words <= heapWords && SHADOW[i] === LIVE && SHADOW[i + words - 1] === LIVE) return addr;
  if (addr === NULL) crash('null-deref', where, 'NULL pointer dereference (a member of a struct)');
  if (i >= 0 && i < heapWords && SHADOW[i] === FREED) crash('use-after-free', where, `${access} of a member of struct ${blockTypeAt(addr)} at ${hex(addr)} after it was freed; ${xenWould('stale-pointer', access)}`);
  return crash('null-deref', where, `page fault at wild pointer ${hex(addr)} (a member of a struct)`);
}

/** What the dereference does with the object: the report says which. */
export type Access = 'read' | 'write';

/**
 * What Xen would do where the lab reports a use-after-free. Xen's xfree neither faults on later accesses nor checks
 * them; debug builds (CONFIG_XMEM_POOL_POISON, default DEBUG; common/xmalloc_tlsf.c INSERT_BLOCK) fill a freed
 * block with 0xAA bytes past its free-list pointers, so a pointer read from it is non-canonical and faults when
 * followed, and a write into it is caught as "XMEM Pool corruption found" (BUG) when the block is next allocated.
 */
export function xenWould(how: 'poisoned-pointer' | 'stale-pointer', access: Access): string {
  if (how === 'poisoned-pointer') return 'Xen: a debug build faults following 0xAA..AA (#GP); a release build follows the stale value silently';
  return access === 'write'
    ? 'Xen: no fault; the write corrupts the freed block (debug builds BUG with "XMEM Pool corruption found" when it is next allocated)'
    : 'Xen: no fault; the read returns freed memory (0xAA bytes in a debug build, stale data in a release build)';
}

function badPointer(p: number, T: Struct, where: string, access: Access): never {
  if (p === NULL) crash('null-deref', where, `NULL pointer dereference (struct ${T.name})`);
  if (p === POISON) crash('use-after-free', where, `${access} through a struct ${T.name} pointer read from freed memory (${hex(p)}); ${xenWould('poisoned-pointer', access)}`);
  const i = p - heapBase;
  if (i < HDR || i >= heapWords || SHADOW[i] === 0) crash('null-deref', where, `page fault at wild pointer ${hex(p)} (struct ${T.name})`);
  if (SHADOW[i] === FREED) crash('use-after-free', where, `${access} of struct ${typeName(M[p - 2])} at ${hex(p)} after it was freed; ${xenWould('stale-pointer', access)}`);
  crash('bug', where, `type confusion: ${hex(p)} is struct ${typeName(M[p - 2])}, used as struct ${T.name}`);
}

/** For words inside objects (an embedded lock): 0 outside the heap or unallocated, 1 live, 2 freed. */
export function shadowOf(addr: number): number {
  const i = addr - heapBase;
  return i >= 0 && i < heapWords ? SHADOW[i] : LIVE;
}
export const SHADOW_FREED = FREED;

/** Type name of the heap block containing addr (for reports). */
export function blockTypeAt(addr: number): string {
  for (let p = addr; p - heapBase >= HDR; p--) {
    const tag = M[p - 2];
    const st = tag & 0xff;
    if ((st === LIVE || st === FREED) && structById(tag >>> 8) && p + M[p - 1] > addr) return structById(tag >>> 8)!.name;
  }
  return '?';
}

export function heapLive(): number { return Atomics.load(M, CTL.HEAP_LIVE); }

function typeName(tag: number): string { return structById(tag >>> 8)?.name ?? `#${tag >>> 8}`; }
function hex(p: number): string { return `0x${(p >>> 0).toString(16)}`; }
