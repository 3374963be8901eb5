// Strict base64 for TF Serving's {"b64": "…"} BYTES elements. Node's Buffer.from(s, 'base64')
// skips any character outside the alphabet and so turns a typo into garbage bytes; TF Serving
// refuses such text ("Unable to base64 decode"). Accepted: RFC 4648 base64 in the standard
// alphabet (what TF Serving's own examples and Python's b64encode write) or the URL-safe one
// (urlsafe_b64encode, which TF's decode_base64 and many TF Serving clients use), one alphabet per
// string, padding optional but correct when present, no whitespace.

/** Where and why `text` is not base64; undefined when it is. */
export function base64Problem(text: string): string | undefined {
  let end = text.length;
  let padding = 0;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */ && padding < 2) {
    end--;
    padding++;
  }
  let alphabet: 'standard' | 'URL-safe' | undefined;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)) continue;
    const kind = c === 43 /* + */ || c === 47 /* / */ ? 'standard' : c === 45 /* - */ || c === 95 /* _ */ ? 'URL-safe' : undefined;
    if (kind === undefined || (alphabet !== undefined && kind !== alphabet)) {
      const shown = c === 61 ? "'=' before the end" : c < 32 || c > 126 ? `the character U+${c.toString(16).toUpperCase().padStart(4, '0')}` : `the character '${text[i]}'`;
      return `${shown} at position ${i}${kind !== undefined ? ` mixes the ${kind} alphabet with the ${alphabet} one` : ''}`;
    }
    alphabet = kind;
  }
  if (end % 4 === 1) return `${end} characters of data, which no byte string encodes (a base64 text is never 1 more than a multiple of 4 long)`;
  if (padding > 0 && text.length % 4 !== 0) return `${padding} '=' of padding after ${end} characters; padded base64 is a multiple of 4 characters long`;
  return undefined;
}

/**
 * The bytes of strict base64 `text` (see base64Problem), in an array owning its buffer. Node's
 * 'base64' decoder reads both alphabets, so the one base64Problem allowed needs no second scan.
 */
export function decodeBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
