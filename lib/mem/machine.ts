// The machine's memory: one SharedArrayBuffer holding every piece of state that can race. A worker receives the
// buffer plus this small layout descriptor and attaches to it; it keeps no private copy of shared state.

export const CTL_WORDS = 80;
/**
 * Control block word indices (lab machinery, not Xen state), grouped by 64-byte line (16 words) so that a word
 * written on every event does not drag the lines other threads poll: line 0 is read-mostly (STOP is polled by
 * waiters), line 1 is the scheduler's, line 2 lockdep's, line 3 holds only SEQ (one atomic add per recorded event),
 * line 4 the heap allocator's lock and state (written under that lock). Progress counters are per thread (held.ts).
 */
export const CTL = {
  STOP: 0,          // non-zero: the trial is over, every thread unwinds
  OUTCOME: 2,       // first classified outcome code + 1 (0 = none yet); set once by compare-exchange
  OUTCOME_CPU: 3,
  THREADS_DONE: 4,
  FLAGS: 5,         // lock profiling / lockdep switches (lib/sync/profile.ts)
  SCHED: 16,        // 16 words owned by lib/sched
  LOCKDEP: 32,      // 8 words owned by lib/sync/lockdep
  SEQ: 48,          // global event sequence (flight recorder ordering), alone on its line
  HEAP_LOCK: 64,
  HEAP_BUMP: 65,
  HEAP_QHEAD: 66,
  HEAP_QCOUNT: 67,
  HEAP_LIVE: 68,
  HEAP_SLEEPERS: 69, // threads asleep on HEAP_LOCK: its unlock notifies only when there are any
} as const;

/** Words per 64-byte cache line. */
export const LINE_WORDS = 16;
export const MAX_THREADS = 16;
export const HELD_MAX = 8;          // held-lock slots published per thread
/** Per-thread published lock state, one 64-byte line each: [waitingOn, depth, progress, -, ..., held x HELD_MAX]. */
export const HELD_WORDS = 16;
export const HELD = { WAITING: 0, DEPTH: 1, PROGRESS: 2, LOCKS: 8 } as const;
export const RING_ENTRIES = 256;    // flight recorder entries per thread (power of two)
export const RING_ENTRY_WORDS = 4;  // seq, event, a, b
export const PROFILE_FIELDS = 6;    // acquisitions, contended, waitSum, waitMax, holdSum, holdMax (Float64 each)
export const QUARANTINE = 128;      // freed blocks held back from reuse (KASAN-style)
export const MAX_SIZE_CLASS = 512;  // exact-size free lists up to this many words
/** Region 'sched' (lib/sched/controlled.ts): a header, one slot per thread, then one byte per decision. */
export const SCHED_HEADER_WORDS = 80;
export const SCHED_SLOT_WORDS = 16;
export const SCHED_DECISIONS_DEFAULT = 1 << 18;

export interface Region { readonly base: number; readonly words: number }

export interface Layout {
  readonly bytes: number;
  readonly threads: number;
  readonly lockClasses: readonly string[];
  readonly heap: Region;
  readonly shadowByte: number;   // byte offset of the heap shadow (one byte per heap word)
  readonly regions: Readonly<Record<string, Region>>;
}

export interface MachineSpec {
  threads: number;
  heapWords?: number;
  lockClasses?: readonly string[];
  /** Regions later layers need, in words (hardware config space, per-vCPU slots, ...). */
  regions?: Record<string, number>;
  /** Lock profiling (default on) and lock-order checking (default on). */
  profile?: boolean;
  /** Freed heap blocks are reused at once instead of quarantined (lib/mem/heap.ts FLAG_HEAP_REUSE). */
  heapReuse?: boolean;
  /** More CTL.FLAGS bits, defined by the layers that read them (e.g. lib/sync/layouts.ts FLAG_HEAD_LOCKS). */
  extraFlags?: number;
  lockdep?: boolean;
  /** Most scheduling decisions a controlled run can log and replay (default SCHED_DECISIONS_DEFAULT). */
  schedDecisions?: number;
  /** What upper layers need every thread to know before it runs (e.g. which strategy the model runs). */
  meta?: Record<string, string>;
}

export interface Machine { readonly sab: SharedArrayBuffer; readonly layout: Layout; readonly meta: Readonly<Record<string, string>> }

export function createMachine(spec: MachineSpec): Machine {
  if (!Number.isInteger(spec.threads) || spec.threads < 1 || spec.threads > MAX_THREADS) {
    throw new RangeError(`threads must be 1..${MAX_THREADS}`);
  }
  const classes = ['heap', ...(spec.lockClasses ?? [])];
  const nc = classes.length;
  let next = CTL_WORDS;
  const regions: Record<string, Region> = {};
  const take = (name: string, words: number, align = 1): Region => {
    next = Math.ceil(next / align) * align;
    const r = { base: next, words };
    next += words;
    regions[name] = r;
    return r;
  };
  const heapWords = spec.heapWords ?? (1 << 18);
  take('freelists', MAX_SIZE_CLASS + 1);
  take('quarantine', QUARANTINE);
  take('held', MAX_THREADS * HELD_WORDS, LINE_WORDS);
  take('lockdep', nc * nc);
  take('ring', MAX_THREADS * RING_ENTRIES * RING_ENTRY_WORDS, LINE_WORDS);
  take('profile', MAX_THREADS * nc * PROFILE_FIELDS * 2, LINE_WORDS);
  take('threadStat', MAX_THREADS * 16, LINE_WORDS);
  take('sched', SCHED_HEADER_WORDS + MAX_THREADS * SCHED_SLOT_WORDS + Math.ceil((spec.schedDecisions ?? SCHED_DECISIONS_DEFAULT) / 4), 16);
  for (const [name, words] of Object.entries(spec.regions ?? {})) take(name, words, 2);
  const heap = take('heap', heapWords, 2);
  const shadowByte = next * 4;
  const bytes = Math.ceil((shadowByte + heapWords) / 8) * 8;
  const layout: Layout = { bytes, threads: spec.threads, lockClasses: classes, heap, shadowByte, regions };
  const sab = spareBuffer(bytes) ?? new SharedArrayBuffer(bytes);
  const m = new Int32Array(sab);
  m[CTL.FLAGS] = (spec.profile === false ? 0 : 1) | (spec.lockdep === false ? 0 : 2) | (spec.heapReuse ? 0x100 : 0) | (spec.extraFlags ?? 0);
  m[CTL.HEAP_BUMP] = heap.base + 2; // word 0 of the heap is never handed out: pointer 0 is NULL
  return { sab, layout, meta: { ...spec.meta } };
}

// ---- buffers of finished trials, reused: memory that does not grow with the number of trials ----
// A trial's buffer is referenced by every worker that attached it until that worker's isolate collects its
// garbage; fresh buffers per trial therefore pile up (hundreds of MB over a campaign) however small each is.
// Callers that run trial after trial hand each machine back once nothing reads it any more.

const spares: SharedArrayBuffer[] = [];
const MAX_SPARES = 4;

/**
 * The machine's buffer may be handed to a later createMachine (zeroed first). Call only when no thread will touch
 * this machine again: its trial is over, its workers came back (none was aborted) and its results were read.
 */
export function releaseMachine(m: Machine): void {
  if (spares.includes(m.sab)) return;
  if (spares.length >= MAX_SPARES) spares.shift();
  spares.push(m.sab);
}

function spareBuffer(bytes: number): SharedArrayBuffer | undefined {
  const i = spares.findIndex((s) => s.byteLength === bytes);
  if (i < 0) return undefined;
  const [sab] = spares.splice(i, 1);
  new Int32Array(sab).fill(0);
  return sab;
}

// ---- the attached machine of this thread (one at a time): module state so hot paths take no extra argument ----

export let M: Int32Array = new Int32Array(0);
export let H16: Uint16Array = new Uint16Array(0);
export let F64: Float64Array = new Float64Array(0);
export let SHADOW: Uint8Array = new Uint8Array(0);
export let LAYOUT: Layout;
/** This thread's CPU number in the model (index into per-thread regions). */
export let cpu = 0;

const attachHooks: Array<() => void> = [];
/**
 * Layers with per-thread caches register here; called on every attach, and at once if this thread is already
 * attached (a module first imported after attach, e.g. an actor module loaded by a worker, must not miss it).
 */
export function onAttach(fn: () => void): void {
  attachHooks.push(fn);
  if (M.length > 0) fn();
}

export function attach(machine: Machine, thisCpu = 0): void {
  const { sab, layout } = machine;
  M = new Int32Array(sab);
  H16 = new Uint16Array(sab);
  F64 = new Float64Array(sab);
  SHADOW = new Uint8Array(sab, layout.shadowByte, layout.heap.words);
  LAYOUT = layout;
  setCpu(thisCpu);
  for (const fn of attachHooks) fn();
}

export function setCpu(c: number): void {
  if (!Number.isInteger(c) || c < 0 || c >= MAX_THREADS) throw new RangeError(`bad cpu ${c}`);
  cpu = c;
}

export function region(name: string): Region {
  const r = LAYOUT.regions[name];
  if (!r) throw new Error(`machine has no region '${name}'`);
  return r;
}

export function lockClassId(name: string): number {
  const i = LAYOUT.lockClasses.indexOf(name);
  if (i < 0) throw new Error(`unknown lock class '${name}'`);
  return i;
}

export function stopped(): boolean { return Atomics.load(M, CTL.STOP) !== 0; }
