// Struct layouts are declared once: field name -> word offset. Model code reads `m[p + VPCI.lock]`; nothing is
// allocated per access. Each struct gets a type id stored in its heap block header (type-confusion checks); the id
// is a hash of the name, so every thread agrees on it whatever order its modules were loaded in.

export interface Struct {
  readonly name: string;
  readonly id: number;
  readonly words: number;
}

const registry = new Map<number, Struct>();

function typeId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 8) || 1; // 24 bits: fits the block header beside the state byte
}

/** Declare a struct. `spec` maps each field to its size in words, in declaration order. */
export function defineStruct<K extends string>(name: string, spec: Record<K, number>): Struct & Readonly<Record<K, number>> {
  const id = typeId(name);
  const clash = registry.get(id);
  if (clash && clash.name !== name) throw new Error(`struct type id clash: ${name} / ${clash.name}`);
  const out: Record<string, unknown> = { name, id };
  let off = 0;
  for (const [field, size] of Object.entries<number>(spec)) {
    out[field] = off;
    off += size;
  }
  out.words = Math.max(off, 1);
  const s = out as unknown as Struct & Record<K, number>;
  registry.set(id, s);
  return s;
}

export function structById(id: number): Struct | undefined { return registry.get(id); }
