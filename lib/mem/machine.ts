// The machine's memory: one SharedArrayBuffer holding every piece of state that can race. A worker receives the
// buffer plus this small layout descriptor and attaches to it; it keeps no private copy of shared state.

import { CTL, fixedRegions, MAX_THREADS, SCHED_DECISIONS_DEFAULT } from './regions.js';

export { LINE_WORDS } from './layout.js';
export * from './regions.js';

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
  let next = CTL.words;
  const regions: Record<string, Region> = {};
  const take = (name: string, words: number, align = 1): Region => {
    next = Math.ceil(next / align) * align;
    const r = { base: next, words };
    next += words;
    regions[name] = r;
    return r;
  };
  const heapWords = spec.heapWords ?? (1 << 18);
  for (const r of fixedRegions(nc, spec.schedDecisions ?? SCHED_DECISIONS_DEFAULT)) take(r.name, r.words, r.align);
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
 * A released buffer that was copied from an image: which image, and the heap's bump pointer when it was released.
 * Heap words at or above the larger of that and the image's bump were never handed out, so they (and their shadow
 * bytes) still hold the image's zeros: restoring the image there is a copy of the words below only.
 */
const fromImage = new WeakMap<SharedArrayBuffer, FromImage>();
/**
 * One per buffer, kept from run to run while the buffer serves the same image (a verify search's machine is the
 * same buffer run after run): views made once, and the ranges to skip as [from, end, ...] by `from`, in place.
 */
interface FromImage { image: Uint8Array; words: Int32Array; imageWords: Int32Array; bump: number; skip: number[]; skips: number }

/** Words [from, to) of a released machine that its run left as its image (`image`) had them, or undefined. */
export type UntouchedRange = (m: Int32Array, layout: Layout, image: Int32Array) => readonly [number, number] | undefined;
const untouched: UntouchedRange[] = [];
/**
 * A layer whose region a run writes only up to a mark kept in its own words (the scheduler's decision log: a
 * quarter of a megabyte, of which a verify run writes a few hundred bytes) names the rest, read at release: a
 * restore from the image leaves those words alone, since they still hold the image's bytes.
 */
export function untouchedByRun(f: UntouchedRange): void { untouched.push(f); }

/**
 * The machine's buffer may be handed to a later createMachine (zeroed first). Call only when no thread will touch
 * this machine again: its trial is over, its workers came back (none was aborted) and its results were read.
 */
export function releaseMachine(m: Machine): void {
  if (spares.includes(m.sab)) return;
  if (spares.length >= MAX_SPARES) spares.shift();
  const from = fromImage.get(m.sab);
  if (from) {
    from.bump = Atomics.load(from.words, CTL.HEAP_BUMP);
    const skip = from.skip;
    let n = 0;
    for (const f of untouched) {
      const r = f(from.words, m.layout, from.imageWords);
      if (r === undefined || r[0] >= r[1]) continue;
      // Insertion by `from` (a handful of ranges, mostly in order already).
      let k = n;
      while (k > 0 && skip[2 * k - 2] > r[0]) { skip[2 * k] = skip[2 * k - 2]; skip[2 * k + 1] = skip[2 * k - 1]; k--; }
      skip[2 * k] = r[0]; skip[2 * k + 1] = r[1];
      n++;
    }
    from.skips = n;
  }
  spares.push(m.sab);
}

function spareBuffer(bytes: number, zero = true, image?: Uint8Array): SharedArrayBuffer | undefined {
  let i = image ? spares.findIndex((s) => fromImage.get(s)?.image === image) : -1;
  if (i < 0) i = spares.findIndex((s) => s.byteLength === bytes);
  if (i < 0) return undefined;
  const [sab] = spares.splice(i, 1);
  if (zero) { new Int32Array(sab).fill(0); fromImage.delete(sab); }
  return sab;
}

/** VPCI_IMAGE_CHECK=1 (or checkImageRestores): every partial restore is compared with the whole image. */
let CHECK_RESTORE = process.env.VPCI_IMAGE_CHECK === '1';
export function checkImageRestores(on: boolean): void { CHECK_RESTORE = on; }

/**
 * A machine whose memory is a copy of `bytes` (a whole buffer of `layout.bytes`, e.g. another machine's as it stood
 * after boot): a released buffer is overwritten, not zeroed first; one last copied from this very image gets back
 * only what its run could have changed (everything below the heap but what untouchedByRun names, the heap up to
 * its bump, and those words' shadow): about 5% of the bytes for a verify run.
 */
export function machineFromImage(layout: Layout, meta: Machine['meta'], bytes: Uint8Array): Machine {
  if (bytes.length !== layout.bytes) throw new RangeError(`image of ${bytes.length} bytes for a machine of ${layout.bytes}`);
  const sab = spareBuffer(layout.bytes, false, bytes) ?? new SharedArrayBuffer(layout.bytes);
  const to = new Uint8Array(sab), last = fromImage.get(sab);
  if (last?.image === bytes) {
    const imageBump = last.imageWords[CTL.HEAP_BUMP];
    const top = Math.min(Math.max(last.bump, imageBump), layout.heap.base + layout.heap.words);
    let at = 0;
    const skip = last.skip;
    for (let k = 0; k < last.skips; k++) {
      const from = skip[2 * k], end = skip[2 * k + 1];
      if (from >= top) break;
      if (from > at) to.set(bytes.subarray(at * 4, from * 4), at * 4);
      at = Math.max(at, end);
    }
    if (at < top) to.set(bytes.subarray(at * 4, top * 4), at * 4);
    const shadowEnd = layout.shadowByte + (top - layout.heap.base);
    to.set(bytes.subarray(layout.shadowByte, shadowEnd), layout.shadowByte);
    if (CHECK_RESTORE && Buffer.compare(Buffer.from(sab), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)) !== 0) {
      throw new Error(`lab error: a machine restored from its image up to heap word ${top} differs from the image`);
    }
  } else to.set(bytes);
  if (last?.image === bytes) { last.bump = 0; last.skips = 0; }
  else fromImage.set(sab, { image: bytes, words: new Int32Array(sab), imageWords: last?.imageWords.buffer === bytes.buffer && last.imageWords.byteOffset === bytes.byteOffset ? last.imageWords : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2), bump: 0, skip: [], skips: 0 });
  return { sab, layout, meta: { ...meta } };
}

// ---- the attached machine of this thread (one at a time): module state so hot paths take no extra argument ----

export let M: Int32Array = new Int32Array(0);
export let H16: Uint16Array = new Uint16Array(0);
export let F64: Float64Array = new Float64Array(0);
export let SHADOW: Uint8Array = new Uint8Array(0);
export let LAYOUT: Layout;
/** This thread's CPU number in the model (index into per-thread regions). */
export let cpu = 0;

/** In registration order; `layoutOnly`: an onLayout hook. */
const attachHooks: Array<{ fn: () => void; layoutOnly: boolean }> = [];
/** The layout this thread's last attach ran the hooks for. */
let hookedLayout: Layout | undefined;
/**
 * Layers with per-thread caches register here; called on every attach, and at once if this thread is already
 * attached (a module first imported after attach, e.g. an actor module loaded by a worker, must not miss it).
 */
export function onAttach(fn: () => void): void {
  attachHooks.push({ fn, layoutOnly: false });
  if (M.length > 0) fn();
}
/**
 * For caches of what the layout alone decides (region bases, lock class ids): called, in order with the onAttach
 * hooks, only on an attach to another layout than this thread's last one (a worker attaches before every run,
 * mostly to the layout it ran before), and at once if this thread is already attached.
 */
export function onLayout(fn: () => void): void {
  attachHooks.push({ fn, layoutOnly: true });
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
  const fresh = layout !== hookedLayout;
  hookedLayout = layout;
  for (const h of attachHooks) if (fresh || !h.layoutOnly) h.fn();
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
