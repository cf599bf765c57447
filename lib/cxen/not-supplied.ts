// A function the lab does not supply, reached by the compiled C (a generated stub, pci-build.ts, or a stub of the
// lab's C runtime, NOT_SUPPLIED in native/cx.h). That cannot happen in Xen, so it is the lab's error, never an
// outcome: the trial stops (workers/thread.ts reports it as a fault, like a scenario's own error) and the command
// prints one line and exits 2 with no verdict. Duck-typed by name across module copies, as ModelCrash is.

export class NotSupplied extends Error {
  constructor(readonly fn: string, readonly stub: string) {
    super(`the C backend reached ${fn}, which the lab does not supply (${stub})`);
    this.name = 'NotSupplied';
  }
}

export const isNotSupplied = (e: unknown): e is NotSupplied => (e as Error | undefined)?.name === 'NotSupplied';
