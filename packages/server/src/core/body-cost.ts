// What a request body costs in memory while the server holds it: the unit of the body budget
// (http.inflightBodyBytes; frontends/http/body-budget.ts). A body is held from its first byte until its answer is sent: as raw
// bytes while it arrives, then while it is decoded and its tensors run. Its cost is its size times
// a factor for its kind, measured by bench/json-decode-cost.ts (results in
// bench/results/2026-12-07-http-body-memory.md):
//
// - JSON (every body that is not binary): the body itself, then decoding it as the protocol codec
//   does (UTF-8 text, JSON.parse of the `data` arrays, typed arrays) peaks at 4.5 to 12.4 bytes of
//   RSS per body byte above it (12.4 for short decimals into FP64, 12.0 for one-digit numbers,
//   11.0 for iris rows). 1 + 12.4, rounded up: 14.
// - binary (the binary tensor extension: Inference-Header-Content-Length, raw binary included):
//   its JSON header costs as JSON; the tensor bytes after it cost the body and the tensors copied
//   out of it, about 1× each: 2. A body is binary only when it carries that header — that is what
//   makes the V2 route decode it as binary; any other body (application/octet-stream without the
//   header too) is decoded, and counted, as JSON.
//
// Pure: no clock, no I/O. Table-tested in body-cost.test.ts.

/** How a body is decoded, which decides what it costs. */
export type BodyContent = { kind: 'json' } | { kind: 'binary'; /** Leading bytes that are the JSON header. */ jsonHeaderBytes: number };

/** Memory bytes per body byte, by kind (see above). */
export const BODY_COST_FACTORS = Object.freeze({ json: 14, binary: 2 });

export const JSON_BODY: BodyContent = Object.freeze({ kind: 'json' });

/**
 * Memory the first `bytes` bytes of a body cost while held (monotone in `bytes`: a body arriving
 * in pieces is charged the difference as each arrives): JSON bytes × 14, binary tensor bytes × 2.
 */
export function bodyCostBytes(bytes: number, content: BodyContent): number {
  const size = Math.max(0, bytes);
  const json = content.kind === 'json' ? size : Math.min(size, Math.max(0, content.jsonHeaderBytes));
  return json * BODY_COST_FACTORS.json + (size - json) * BODY_COST_FACTORS.binary;
}

/**
 * What a request's body is, from its headers: binary when Inference-Header-Content-Length is an
 * integer from 0 (raw binary) — its value is the JSON header's length; JSON otherwise (a malformed
 * header is refused by the route after the body is read: counted as JSON, the larger cost).
 */
export function bodyContentOf(headers: Readonly<Record<string, string | readonly string[] | undefined>>): BodyContent {
  const header = headers['inference-header-content-length'];
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return JSON_BODY;
  return { kind: 'binary', jsonHeaderBytes: Number(text) };
}
