// Ctrl-C and SIGTERM end a run the same way: the command stops starting work, prints and writes what it measured,
// and exits 130 or 143 (128 + the signal). SIGTERM is what Kubernetes, Slurm and CI cancellation send, so losing
// the summary, JSON, JUnit and HTML to it would lose the cluster's results.

export type StopSignal = 'SIGINT' | 'SIGTERM';

let received: StopSignal | undefined;

/** The signal that stopped this run, if one did (the exit code follows it). */
export const stopSignal = (): StopSignal | undefined => received;

/**
 * Call `stop` on the first SIGINT or SIGTERM (later ones are ignored: the run is already finishing); returns the
 * function that removes the handlers. A second handler for the same run reuses the first signal.
 */
export function onStop(stop: (signal: StopSignal) => void): () => void {
  const h = (s: StopSignal): void => { received ??= s; stop(s); };
  const int = (): void => h('SIGINT'), term = (): void => h('SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  return () => { process.off('SIGINT', int); process.off('SIGTERM', term); };
}
