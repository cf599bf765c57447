// Layouts are declared once: field name -> word offset, in declaration order, so a new field is one line and two
// fields can never share a word by accident. Model code reads `m[p + VPCI.lock]`; nothing is allocated per access.
//
// Two kinds: heap structs (defineStruct: each gets a type id stored in its heap block header for type-confusion
// checks; the id is a hash of the name, so every thread agrees on it whatever order its modules were loaded in) and
// fixed layouts of the machine's own regions (defineLayout: the control block, the scheduler's header and slots,
// the Xen globals, ...). A fixed layout may place a field on a fresh 64-byte line (`line: 'start'`) or give it
// whole lines of its own (`line: 'alone'`: a word written on every event must not drag the lines other threads
// poll); such a layout takes whole lines, and the machine places it on a line boundary.

/** Words (Int32) per 64-byte cache line. */
export const LINE_WORDS = 16;

/** A field's size in words, or its size and placement. */
export type FieldSpec = number | { readonly words?: number; readonly line: 'start' | 'alone' };

export interface FieldInfo { readonly name: string; readonly off: number; readonly words: number; readonly alone: boolean }

/** What a declaration produced, for checks and tests (declaredLayouts). */
export interface Shape {
  readonly name: string;
  readonly words: number;
  /** Placed on a line boundary and made of whole lines (some field asked for a line, or `lined` was given). */
  readonly lined: boolean;
  readonly fields: readonly FieldInfo[];
}

declare const brand: unique symbol;
/**
 * A model pointer to a struct N (a heap word offset, 0 = NULL) with a phantom brand: at run time a plain number,
 * at compile time a `Ptr<'pci_dev'>` cannot be passed where a `Ptr<'vcpu'>` is expected. Values read from memory
 * are plain numbers until `ptr` (or `chk`, which also checks them) names what they point to.
 */
export type Ptr<N extends string> = number & { readonly [brand]: N };

export interface Struct<N extends string = string> {
  readonly name: N;
  readonly id: number;
  readonly words: number;
}

/** A fixed layout: its fields' offsets, and its size in words. */
export type FixedLayout<K extends string> = Readonly<Record<K, number>> & { readonly words: number };

const RESERVED = new Set(['name', 'id', 'words']);
const registry = new Map<number, Struct>();
const shapes = new Map<string, Shape>();
const shapeByLayout = new WeakMap<object, Shape>();

function layOut(name: string, spec: Record<string, FieldSpec>, lined: boolean): Shape {
  const fields: FieldInfo[] = [];
  let off = 0, anyLine = lined;
  const toLine = (w: number): number => Math.ceil(w / LINE_WORDS) * LINE_WORDS;
  for (const [field, s] of Object.entries(spec)) {
    if (RESERVED.has(field)) throw new Error(`${name}: field name '${field}' is reserved`);
    const words = typeof s === 'number' ? s : s.words ?? 1;
    if (!Number.isInteger(words) || words < 0) throw new Error(`${name}.${field}: bad size ${words}`);
    const line = typeof s === 'number' ? undefined : s.line;
    if (line) { anyLine = true; off = toLine(off); }
    fields.push({ name: field, off, words, alone: line === 'alone' });
    off += words;
    if (line === 'alone') off = toLine(off);
  }
  return { name, words: anyLine ? Math.max(toLine(off), LINE_WORDS) : Math.max(off, 1), lined: anyLine, fields };
}

// Built in one go (Object.fromEntries): adding 20-odd properties one by one under computed names turns an object
// into a dictionary, and every load of a field offset (SCHED_HEADER.STEP, XEN.seed) into a hash lookup in the IC.
function flatten(shape: Shape, extra: Record<string, unknown>): Record<string, unknown> {
  const entries: [string, unknown][] = Object.entries(extra);
  for (const f of shape.fields) entries.push([f.name, f.off]);
  entries.push(['words', shape.words]);
  return Object.fromEntries(entries);
}

function typeId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 8) || 1; // 24 bits: fits the block header beside the state byte
}

/** Declare a heap struct. `spec` maps each field to its size in words, in declaration order. */
export function defineStruct<N extends string, K extends string>(name: N, spec: Record<K, number>): Struct<N> & Readonly<Record<K, number>> {
  const id = typeId(name);
  const clash = registry.get(id);
  if (clash && clash.name !== name) throw new Error(`struct type id clash: ${name} / ${clash.name}`);
  const s = flatten(layOut(name, spec, false), { name, id }) as unknown as Struct<N> & Record<K, number>;
  registry.set(id, s);
  const k = id & TYPE_SLOT_MASK;
  if (typeSlotId[k] === 0 || typeSlotId[k] === id) { typeSlot[k] = s; typeSlotId[k] = id; } else typeSlotId[k] = -1;
  return s;
}

// Every struct object has a map of its own, so a load of T.id in lib/mem/heap.ts's chk, which sees them all, is
// megamorphic (a stub-cache probe, ~7 ns). chk compares the block's header with these instead: slot id & MASK
// holds the struct of that id and its id, or -1 when two types share the slot (chk then reads T.id).
const TYPE_SLOTS = 1024;
export const TYPE_SLOT_MASK = TYPE_SLOTS - 1;
export const typeSlot: (Struct | null)[] = Array.from({ length: TYPE_SLOTS }, () => null);
export const typeSlotId = new Int32Array(TYPE_SLOTS);

export function structById(id: number): Struct | undefined { return registry.get(id); }

/** Name what a word read from memory points to (no check: `chk` checks when it is dereferenced). */
export function ptr<N extends string>(p: number, _T: Struct<N>): Ptr<N> { return p as Ptr<N>; }

export interface LayoutOptions {
  /** Whole lines and a line-aligned base even with no line field (per-thread slots: one CPU per line). */
  readonly lined?: boolean;
  /** The words reserved for it by a lower layer: declaring more throws at load, before anything runs. */
  readonly capacity?: number;
}

/** Declare the layout of a fixed block of the machine's memory (or of one entry of a per-thread array). */
export function defineLayout<K extends string>(name: string, spec: Record<K, FieldSpec>, o: LayoutOptions = {}): FixedLayout<K> {
  const shape = layOut(name, spec, o.lined ?? false);
  if (o.capacity !== undefined && shape.words > o.capacity) {
    throw new Error(`layout ${name} needs ${shape.words} words, ${o.capacity} are reserved for it`);
  }
  shapes.set(name, shape);
  const l = flatten(shape, {});
  shapeByLayout.set(l, shape);
  return l as unknown as FixedLayout<K>;
}

/** Every fixed layout declared so far in this thread. */
export function declaredLayouts(): readonly Shape[] { return [...shapes.values()]; }

export function shapeOf(l: FixedLayout<string>): Shape {
  const s = shapeByLayout.get(l);
  if (!s) throw new Error('not a declared layout');
  return s;
}

/** Size in words of one field of a layout (the reservation a lower layer made for an upper one). */
export function fieldWords<K extends string>(l: FixedLayout<K>, field: K): number {
  return shapeOf(l).fields.find((x) => x.name === field)!.words;
}

/** Float64 indices of a layout whose fields are all 2-word doubles (lock profile rows): `F64[row / 2 + i.ACQ]`. */
export function f64Fields<K extends string>(l: FixedLayout<K>): Readonly<Record<K, number>> {
  const out: Record<string, number> = {};
  for (const f of shapeOf(l).fields) {
    if (f.words !== 2 || f.off % 2 !== 0) throw new Error(`${shapeOf(l).name}.${f.name} is not a Float64 field`);
    out[f.name] = f.off / 2;
  }
  return out as Record<K, number>;
}
