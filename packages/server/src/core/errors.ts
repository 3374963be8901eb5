// Helpers around the one error type (SibylError, shared with clients through @sibyl/protocol).
import { SibylError } from '@sibyl/protocol';

/** Wraps anything thrown into a SibylError; SibylErrors pass through unchanged. */
export function toSibylError(err: unknown, reason: 'INTERNAL_ERROR' | 'RUNTIME_FAILED' = 'INTERNAL_ERROR'): SibylError {
  if (err instanceof SibylError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SibylError(reason, message, { cause: err });
}

/** A short, printable rendering of a value for error messages (never the whole of a big value). */
export function preview(value: unknown, maxLength = 60): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
