// The one error type of the bench tool. `kind` decides the CLI's exit code: usage errors exit 2,
// everything that stops a run before it starts (server unreachable, metadata unusable) exits 1.
// Errors during a run (HTTP errors, resets, timeouts) are results, never thrown.

export type BenchErrorKind =
  /** The options are invalid (bad flag value, conflicting flags, unreadable --input-file). */
  | 'usage'
  /** The server could not be reached (connection refused, DNS, timeout). */
  | 'unreachable'
  /** The server answered, but the model metadata was missing, an error or unusable. */
  | 'metadata';

export class BenchError extends Error {
  override readonly name = 'BenchError';
  constructor(
    readonly kind: BenchErrorKind,
    message: string,
  ) {
    super(message);
  }
}
