// Errors the CLI reports as a plain one-line message with exit 1: not bad input (exit 2, UsageError and
// DataError) and not a bug (exit 1 with "internal error"), but something this machine lacks.

/** A device, browser or installed file that is not available (e.g. --device gpu without an adapter). */
export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}
