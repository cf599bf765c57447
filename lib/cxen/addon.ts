// The compiled addon in one thread: loaded once per process (a Node-API module is context-aware, so every worker
// may load the same file), attached to this thread's machine, called by entry name. A crash in the C (a checked
// access, an ASSERT) comes back as the lab's ModelCrash naming the Xen function it happened in; a crash the lab
// raised inside a hook (a lock in freed memory, a double free) is rethrown as it is. A function the lab does not
// supply, reached, is no crash of Xen's: NotSupplied, the lab's error.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { M, LAYOUT, CTL, onAttach } from '../mem/machine.js';
import { VERIFY, VERIFY_FP, VERIFY_SNAP } from '../mem/footprint.js';
import { ModelCrash, type Outcome } from '../mem/crash.js';
import { hookFor } from './hooks.js';
import { NotSupplied } from './not-supplied.js';

interface Native {
  /** Returns where word 0 of `m` and the addon's code are in this process (C's pointers are absolute). */
  attach(m: Int32Array, heapLo: number, heapWords: number, shadowByte: number, consts: Int32Array, hook: Function): [number, number];
  enter(i: number, a0?: number, a1?: number, a2?: number, a3?: number): number | undefined;
  lastCrash(): [kind: string, pc: number, func: string, detail: string, fromJs: boolean] | undefined;
  entries(): string[];
  setChecks(on: boolean): void;
}

/** Function symbols of the addon, to name the Xen function a program counter lies in. */
class Symbols {
  private readonly addr: number[] = [];
  private readonly name: string[] = [];
  private anchor = 0;
  constructor(text: string) {
    const fns: Array<[number, string]> = [];
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]+) ([tTW]) (\S+)$/.exec(line);
      if (!m) continue;
      const a = parseInt(m[1], 16);
      if (m[3] === 'cx_anchor') this.anchor = a;
      fns.push([a, m[3].replace(/\.(part|isra|constprop|cold)\.\d+$/, '')]);
    }
    fns.sort((x, y) => x[0] - y[0]);
    for (const [a, n] of fns) { this.addr.push(a); this.name.push(n); }
  }
  /** pc as an offset from cx_anchor (what the addon reports) -> function name. */
  at(off: number): string {
    const pc = this.anchor + off;
    let lo = 0, hi = this.addr.length - 1, best = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (this.addr[mid] <= pc) { best = mid; lo = mid + 1; } else hi = mid - 1; }
    return best < 0 ? '?' : this.name[best];
  }
}

export interface Addon {
  readonly path: string;
  /** Call a C entry by name with up to four integers; a crash throws the lab's ModelCrash. */
  call(name: string, a0?: number, a1?: number, a2?: number, a3?: number): number;
  has(name: string): boolean;
  /** The function a pc offset (from a hook) lies in. */
  site(pcOff: number): string;
  /** Access checks and footprints on or off (the controls show what they catch). */
  setChecks(on: boolean): void;
}

const loaded = new Map<string, Addon>();
const attachedAddons = new Set<Addon & { attach(): void }>();

onAttach(() => { for (const a of attachedAddons) a.attach(); });

/** The footprint constants runtime.c reads (its enum K_*). */
function fpConsts(): Int32Array {
  const vb = LAYOUT.regions.verify?.base ?? 0;
  return Int32Array.from([CTL.STOP, vb, VERIFY.ARMED, VERIFY.STEP, VERIFY.FP_N, VERIFY.FP_OVER, VERIFY.STEP_FIRST,
    VERIFY.SNAP_N, VERIFY.FP, VERIFY.SNAP, VERIFY_FP, VERIFY_SNAP]);
}

/** C's pointers are absolute: the machine keeps where they point from (CTL.NATIVE_BASE, NATIVE_CODE; lo, hi). */
function publish(base: number, code: number): void {
  for (const [at, v] of [[CTL.NATIVE_BASE, base], [CTL.NATIVE_CODE, code]]) {
    M[at] = v % 2 ** 32 | 0;
    M[at + 1] = Math.floor(v / 2 ** 32);
  }
}

/** Load the addon at `file` (built by build.ts) into this thread, attached to this thread's machine. */
export function loadAddon(file: string): Addon {
  const have = loaded.get(file);
  if (have) return have;
  const require = createRequire(import.meta.url);
  const native = require(file) as Native;
  const syms = new Symbols(fs.readFileSync(path.join(path.dirname(file), 'symbols.txt'), 'utf8'));
  const index = new Map(native.entries().map((n, i) => [n, i]));
  const site = (off: number): string => syms.at(off);
  const hook = hookFor(site);
  let attachedTo: Int32Array | null = null;     // each addon has its own per-thread state in C
  let base = 0, code = 0;                       // where this process has the machine's word 0 and the addon's code
  const addon = {
    path: file,
    attach(): void {
      if (M.length === 0) return;
      [base, code] = native.attach(M, LAYOUT.heap.base, LAYOUT.heap.words, LAYOUT.shadowByte, fpConsts(), hook);
      attachedTo = M;
    },
    call(name: string, a0 = 0, a1 = 0, a2 = 0, a3 = 0): number {
      const i = index.get(name);
      if (i === undefined) throw new Error(`the C backend has no entry '${name}'`);
      if (attachedTo !== M) addon.attach();
      // For the state digest (lib/verify/digest.ts), on a thread that never loads the addon; written only on a machine
      // where C runs (attaching alone must not change a machine: boot images compare bytes, lib/lab/boot-image.ts).
      if (M[CTL.NATIVE_CODE] !== (code % 2 ** 32 | 0)) publish(base, code);
      const r = native.enter(i, a0, a1, a2, a3);
      if (r !== undefined) return r;
      const c = native.lastCrash();
      if (!c) throw new Error(`C entry ${name} returned nothing`);
      const [kind, pc, func, detail] = c;
      if (kind === 'not-supplied') throw new NotSupplied(func || syms.at(pc), detail);
      throw new ModelCrash(kind as Outcome, func || syms.at(pc), `${detail} (compiled C)`);
    },
    has: (name: string): boolean => index.has(name),
    site,
    setChecks: (on: boolean): void => native.setChecks(on),
  };
  attachedAddons.add(addon);
  loaded.set(file, addon);
  return addon;
}
