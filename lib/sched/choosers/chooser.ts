// One interface for every way of picking the next thread (like shuttle's schedulers). A chooser keeps its state in
// the 'sched' region: whichever thread holds the token at a decision point runs it.

export type ChooserName = 'random' | 'pct' | 'replay' | 'verify';

export interface ChooserSetup {
  threads: number;
  seed: number;
  pctDepth: number;
  /** PCT's estimate of the run length in decisions (k). */
  pctLength: number;
  /** Replay: the decisions to feed. */
  replay?: Uint8Array;
}

/** choose() results that are not a thread. */
export const CHOOSE_DIVERGED = -1, CHOOSE_EXHAUSTED = -2;

export interface Chooser {
  readonly id: number;
  readonly name: ChooserName;
  /** Main thread, machine attached, before any thread starts: initialise the shared state. */
  setup(o: ChooserSetup): void;
  /**
   * Pick the next thread. `runnable`: bit mask, never empty. `current`: the thread at the decision point if it
   * stays in the run (it may or may not be in `runnable`), -1 at the start or when it just finished. `step`: the
   * index of this decision. `yielding`: `current` is retrying (a failed trylock or -ERESTART backoff) and asks to
   * let the others run first (shuttle's is_yielding). Returns a runnable thread, or CHOOSE_DIVERGED / CHOOSE_EXHAUSTED (replay only).
   */
  choose(runnable: number, current: number, step: number, yielding: boolean): number;
}
