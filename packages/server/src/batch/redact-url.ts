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

/** Whether a string looks like a URL with credentials in it (`scheme://user:password@…`). */
const CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*:[^/?#@]*@/i;

/**
 * A job spec (or any JSON value holding URLs) as responses and logs may show it: every string
 * that is a URL with a password has it replaced by `***`. The stored record keeps the original
 * (a resume needs it); what leaves the process goes through this.
 */
export function redactJobSpec<T>(value: T): T {
  if (typeof value === 'string') return (CREDENTIALS.test(value) ? redactUrl(value) : value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactJobSpec(v)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactJobSpec(v)])) as T;
  return value;
}

/** Text (an error message) with the password of every URL in it replaced by `***`. */
export function redactUrlsInText(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*:)([^\s/?#@]*)@/gi, '$1***@');
}
