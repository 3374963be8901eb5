// Helpers for error messages (the error type itself, SibylError, is in @sibyl/protocol).

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
