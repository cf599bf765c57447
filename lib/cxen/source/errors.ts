// The C backend's input errors: each is one line for the user and exit code 2 (a bad tree, a patch that does not
// apply, no compiler, a compiler error, no source). The CLI prints `message` alone; nothing here is a crash.

export type XenSourceErrorKind = 'not-xen' | 'no-source' | 'patch' | 'no-cc' | 'compile' | 'apt' | 'git';

export class XenSourceError extends Error {
  readonly exitCode = 2;
  constructor(readonly kind: XenSourceErrorKind, message: string) {
    super(message.split('\n')[0]);
    this.name = 'XenSourceError';
  }
}

/** A compiler error: the message is the first error line; `lines` keeps the first lines of the compiler's output. */
export class CompileError extends XenSourceError {
  constructor(message: string, readonly lines: string[]) {
    super('compile', message);
    this.name = 'CompileError';
  }
}

export const NO_CC = 'no C compiler (cc) on this machine: the C backend needs one';

/** True for any error this module raises on bad input (exit 2), so callers need not import every class. */
export const isXenSourceError = (e: unknown): e is XenSourceError => e instanceof XenSourceError;
