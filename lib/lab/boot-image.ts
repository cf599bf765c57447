// Booting from an image. A controlled campaign (verify, repro, explore) boots the same description for every run,
// and booting (Xen's state, the domains, pci_add_device and the vPCI init hooks of every boot device) was a quarter
// of the main thread's time per verify run. A boot is deterministic: the same description gives the same bytes and
// the same world, except the lock profile's hold times (region 'profile', clock readings that no engine booting
// through here reads). So the first boot of a description is kept as an image; the second boots again and must
// give the same bytes outside that region and the same world, or the description is always booted; from the third
// on, a run's machine is a copy of the image, attached on the boot CPU (with the words attaching resets put back)
// with the strategy installed and no vCPU current, which is how bootMachine leaves the main thread and its memory.

import { attach, machineFromImage, M, type Layout, type Machine } from '../mem/machine.js';
import { installStrategy, loadedStrategy } from '../strategy/index.js';
import { set_current } from '../xen/state.js';
import { bootMachine, machineDefaults, BOOT_CPU, type ModelDesc, type World } from './boot.js';

interface Image {
  layout: Layout; meta: Machine['meta']; bytes: Uint8Array; world: World; checked: boolean;
  /** `bytes` as words (made once, not per run). */
  words: Int32Array;
  /**
   * Words that attaching resets (e.g. the boot CPU's progress count, lib/sync/held.ts), found at the first copy.
   * Present from the start (undefined) like every field: every image has one shape, so a verify child's boots
   * under its next strategy do not meet a new one in optimised code.
   */
  resets: number[] | undefined;
}

/** Per description: its image, or null once two boots of it differed. */
const images = new Map<string, Image | null>();
/** Images kept (about 1 MB each): a verify child runs one scenario under up to seven strategies. */
const MAX_IMAGES = 8;

/** Boots served from an image / boots made, in this thread (tests). */
export const imageStats = { fromImage: 0, booted: 0 };

/**
 * The description's image key. A campaign boots one description per cell: it may compute this once and pass it to
 * every boot (the JSON of the description per run was 3% of a verify run's main thread).
 */
export const imageKey = (desc: ModelDesc): string => JSON.stringify([desc, machineDefaults(), loadedStrategy(desc.strategy).spec]);

function freeze<T>(x: T): T {
  if (x !== null && typeof x === 'object') { for (const v of Object.values(x)) freeze(v); Object.freeze(x); }
  return x;
}

/** Equal bytes outside the lock profile's words. */
function sameBoot(img: Image, m: Machine, world: World): boolean {
  if (JSON.stringify(img.layout) !== JSON.stringify(m.layout) || JSON.stringify(img.world) !== JSON.stringify(world)) return false;
  const p = m.layout.regions.profile;
  const a = Buffer.from(img.bytes.buffer, img.bytes.byteOffset, img.bytes.length), b = Buffer.from(m.sab);
  const from = p ? p.base * 4 : a.length, to = p ? (p.base + p.words) * 4 : a.length;
  return a.length === b.length && a.compare(b, 0, from, 0, from) === 0 && a.compare(b, to, b.length, to, a.length) === 0;
}

function changedWords(a: Int32Array, b: Int32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** bootMachine(desc), from the description's image once two boots of it agreed; `key` is imageKey(desc). */
export function bootFromImage(desc: ModelDesc, key = imageKey(desc)): { machine: Machine; world: World } {
  const img = images.get(key);
  if (img?.checked) {
    const machine = machineFromImage(img.layout, img.meta, img.bytes);
    attach(machine, BOOT_CPU);
    // Attaching resets some of this CPU's words that the boot then changed: put the boot's values back.
    const words = img.words;
    img.resets ??= changedWords(words, new Int32Array(machine.sab));
    for (const i of img.resets) M[i] = words[i];
    installStrategy(desc.strategy);
    set_current(0);
    imageStats.fromImage++;
    return { machine, world: img.world };
  }
  const booted = bootMachine(desc);
  imageStats.booted++;
  if (img === undefined) {
    if (images.size >= MAX_IMAGES) images.delete(images.keys().next().value as string);
    const { layout, meta } = booted.machine;
    const bytes = new Uint8Array(booted.machine.sab).slice();
    images.set(key, { layout, meta, bytes, world: freeze(structuredClone(booted.world)), checked: false, words: new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2), resets: undefined });
  } else if (img !== null) {
    images.set(key, sameBoot(img, booted.machine, booted.world) ? { layout: img.layout, meta: img.meta, bytes: img.bytes, world: img.world, checked: true, words: img.words, resets: undefined } : null);
  }
  return booted;
}

/** Forget every image (tests). */
export function forgetBootImages(): void { images.clear(); }
