import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientErrorOf, connectionsCheckingIntervalMs, rawErrorResponse, requestIdGenerator, resolveHttpLimits } from './http-limits.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const http = { bodyLimitBytes: 64 * MiB, headersTimeoutMs: 10_000, requestReceiveTimeoutMs: 60_000, keepAliveTimeoutMs: 72_000 };

describe('resolveHttpLimits', () => {
  it.each([
    // [memory, configured budget, resolved budget]
    [24 * GiB, undefined, 1.5 * GiB], // 1/16
    [64 * GiB, undefined, 4 * GiB],
    [8 * GiB, undefined, 896 * MiB], // 1/16 is 512 MiB: at least one largest JSON body (14 × 64 MiB)
    [24 * GiB, 1000 * MiB, 1000 * MiB],
  ])('with %i bytes of memory and http.inflightBodyBytes %s → %i', (memory, configured, expected) => {
    expect(resolveHttpLimits({ ...http, inflightBodyBytes: configured }, memory).inflightBodyBytes).toBe(expected);
  });
});

describe('connectionsCheckingIntervalMs', () => {
  it.each([
    [10_000, 60_000, 1000],
    [200, 300, 50],
    [100, 100, 25],
  ])('headers %i ms, request %i ms → checked every %i ms', (headersTimeoutMs, requestReceiveTimeoutMs, expected) => {
    expect(connectionsCheckingIntervalMs({ headersTimeoutMs, requestReceiveTimeoutMs })).toBe(expected);
  });
});

describe('clientErrorOf', () => {
  it.each([
    ['ERR_HTTP_REQUEST_TIMEOUT', 'REQUEST_TIMEOUT', 408],
    ['HPE_HEADER_OVERFLOW', 'HEADERS_TOO_LARGE', 431],
    ['HPE_INVALID_METHOD', 'MALFORMED_REQUEST', 400],
  ])('%s → %s (%i)', (code, reason, status) => {
    const error = clientErrorOf({ code, message: 'x' }, http);
    expect([error.reason, error.httpStatus]).toEqual([reason, status]);
    const raw = rawErrorResponse(error);
    expect(raw.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(raw).toContain('Connection: close');
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ reason });
  });
});

describe('requestIdGenerator', () => {
  const request = (id?: string): IncomingMessage => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as IncomingMessage;
  it('takes an X-Request-Id of up to 256 printable characters, and makes one otherwise', () => {
    const next = requestIdGenerator();
    expect(next(request('abc-123'))).toBe('abc-123');
    expect(next(request('x'.repeat(256)))).toBe('x'.repeat(256));
    expect(next(request('x'.repeat(257)))).toBe('req-1');
    expect(next(request('with space'))).toBe('req-2');
    expect(next(request())).toBe('req-3');
  });
});
