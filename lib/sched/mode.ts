// Yield points: where the model lets another CPU in. Free-running, a yield point is the flight recorder's entry
// (an atomic add and a few stores) and a test of one flag, plus an optional random delay with --jitter, as
// locktorture's random hold times widen windows; the delays come from a generator seeded by the run's seed and the
// CPU, so a seed gives the same delay pattern per CPU (the OS still decides the rest). Controlled, they hand a
// token between threads so exactly one runs between two yield points (lib/sched/controlled.ts).

import { CTL, M, onAttach, cpu } from '../mem/machine.js';
import { defineLayout, fieldWords } from '../mem/layout.js';
import { record, EV } from '../trace/recorder.js';

export const MODE_FREE = 0, MODE_JITTER = 1, MODE_CONTROLLED = 2;
/** Control-block words of the scheduler (CTL.SCHED + i). */
export const SCHED = defineLayout('ctl.SCHED', {
  MODE: 1, JITTER_PERMILLE: 1, JITTER_MAX_US: 1, JITTER_SEED: 1,
}, { capacity: fieldWords(CTL, 'SCHED') });

export let controlled = false;
let jitter = false;
/** Free-running extras (jitter, a test's site hook) share one flag so the plain path tests one flag. */
let slow = false;
let siteHook: ((site: number) => void) | undefined;
let jitterPermille = 0, jitterMaxUs = 0;
let rng = 0x9e3779b9;
/** How many delays this thread has taken since attach, and their planned length (µs): what jitter tests check. */
export let jitterDelays = 0, jitterDelayedUs = 0;

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
  jitterDelays = 0; jitterDelayedUs = 0;
  rng = jitterSeed(M[CTL.SCHED + SCHED.JITTER_SEED], cpu);
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

/** The xorshift state of one CPU's delays: never 0, different per CPU, the same for the same seed. */
export function jitterSeed(seed: number, c: number): number {
  return (Math.imul((seed ^ 0x9e3779b9) >>> 0, 2654435761) ^ Math.imul(c + 1, 0x85ebca6b)) | 1;
}


function maybeDelay(): void {
  rng ^= rng << 13; rng ^= rng >>> 17; rng ^= rng << 5;
  if (((rng >>> 0) % 1000) >= jitterPermille) return;
  const us = (rng >>> 10) % Math.max(1, jitterMaxUs);
  jitterDelays++;
  jitterDelayedUs += us;
  const until = performance.now() + us / 1000;
  while (performance.now() < until) { /* widen the window on a real CPU, as locktorture's delays do */ }
}
