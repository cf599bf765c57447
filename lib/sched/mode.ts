// Yield points: where the model lets another CPU in. Free-running, they cost one branch (plus an optional random
// delay with --jitter, as locktorture's random hold times widen windows). Controlled, they hand a token between
// threads so exactly one runs between two yield points (lib/sched/controlled.ts).

import { CTL, M, onAttach } from '../mem/machine.js';
import { record, EV } from '../trace/recorder.js';

export const MODE_FREE = 0, MODE_JITTER = 1, MODE_CONTROLLED = 2;
/** Control-block words of the scheduler (CTL.SCHED + i). */
export const SCHED = { MODE: 0, JITTER_PERMILLE: 1, JITTER_MAX_US: 2 } as const;

export let controlled = false;
let jitter = false;
/** Free-running extras (jitter, a test's site hook) share one flag so the plain path stays one branch. */
let slow = false;
let siteHook: ((site: number) => void) | undefined;
let jitterPermille = 0, jitterMaxUs = 0;
let rng = 0x9e3779b9;

type Hooks = { yieldNow(site: number): void; blockOn(addr: number, seen: number): void; backoff(site: number): void };
let hooks: Hooks | undefined;
/** lib/sched/controlled registers its implementation here (keeps this hot module free of it). */
export function installControlled(h: Hooks): void { hooks = h; }

onAttach(() => {
  const mode = M[CTL.SCHED + SCHED.MODE];
  controlled = mode === MODE_CONTROLLED;
  jitter = mode === MODE_JITTER;
  jitterPermille = M[CTL.SCHED + SCHED.JITTER_PERMILLE];
  jitterMaxUs = M[CTL.SCHED + SCHED.JITTER_MAX_US];
  slow = jitter || siteHook !== undefined;
  rng = (0x9e3779b9 ^ (Date.now() * 2654435761)) | 1;
});

/** A named decision point; `ev`/`a`/`b` go to the flight recorder when it is a model site. */
export function yield_point(site: number): void {
  record(EV.SITE, site);
  if (controlled) { hooks!.yieldNow(site); return; }
  if (slow) { if (jitter) maybeDelay(); siteHook?.(site); }
}

/**
 * Step-by-step tests: run `fn` at every free-running yield point of this thread, e.g. to make another vCPU act
 * inside a race window deterministically on one thread. Pass undefined to remove it.
 */
export function setSiteHook(fn: ((site: number) => void) | undefined): void {
  siteHook = fn;
  slow = jitter || fn !== undefined;
}

/** A decision point inside lock operations (recorded by the lock code itself). */
export function lock_yield(site: number): void {
  if (controlled) hooks!.yieldNow(site);
  else if (jitter) maybeDelay();
}

/**
 * A retry point (after a failed trylock or a -ERESTART): free-running, just a yield point; controlled, the thread
 * also gives way to every other thread, so retry loops cannot starve the holders they wait for.
 */
export function backoff_point(site: number): void {
  record(EV.SITE, site);
  if (controlled) { hooks!.backoff(site); return; }
  if (slow) { if (jitter) maybeDelay(); siteHook?.(site); }
}

/** Controlled mode: wait until the word at addr no longer holds `seen`, letting others run meanwhile. */
export function block_on(addr: number, seen: number): void { hooks!.blockOn(addr, seen); }

function maybeDelay(): void {
  rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5;
  if (((rng >>> 0) % 1000) >= jitterPermille) return;
  const until = performance.now() + (((rng >>> 10) % Math.max(1, jitterMaxUs)) / 1000);
  while (performance.now() < until) { /* widen the window on a real CPU, as locktorture's delays do */ }
}
