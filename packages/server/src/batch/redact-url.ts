// A connection URL as messages and logs may show it: its password replaced, never printed.

/** A URL without its password (`***` in its place), for messages; `(an invalid URL)` when it does not parse. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}
