import { describe, expect, it } from 'vitest';
import { ClientError } from './errors.ts';
import { DEFAULT_RETRY, parseRetryAfter, resolveRetry, retryDelayMs } from './retry.ts';

const unavailable = (retryAfterMs?: number) => new ClientError('UNAVAILABLE', 'MODEL_NOT_READY', 'down', { retryAfterMs });
const retry = resolveRetry({ maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2 });

describe('retryDelayMs: exponential backoff with full jitter', () => {
  it.each([
    [1, 0.5, 50], // ceiling 100
    [2, 0.5, 100], // ceiling 200
    [3, 0.999, 399.6], // ceiling 400
    [4, 1, 800],
  ])('after attempt %i with random %d waits %d ms', (attempt, random, delay) => {
    expect(retryDelayMs(retry, attempt, unavailable(), random, undefined)).toBeCloseTo(delay, 6);
  });

  it('caps the ceiling at maxBackoffMs', () => {
    expect(retryDelayMs(resolveRetry({ maxAttempts: 20, initialBackoffMs: 100, maxBackoffMs: 1000 }), 10, unavailable(), 1, undefined)).toBe(1000);
  });

  it('retries RESOURCE_EXHAUSTED too, but never other codes', () => {
    expect(retryDelayMs(retry, 1, new ClientError('RESOURCE_EXHAUSTED', 'QUEUE_FULL', 'full'), 0.5, undefined)).toBe(50);
    for (const code of ['INVALID_ARGUMENT', 'NOT_FOUND', 'INTERNAL', 'DEADLINE_EXCEEDED', 'CANCELLED'] as const) {
      expect(retryDelayMs(retry, 1, new ClientError(code, undefined, 'x'), 0.5, undefined)).toBeUndefined();
    }
  });

  it('follows the error table where a reason refines its code: a body too large is not retried, a receive timeout is', () => {
    expect(retryDelayMs(retry, 1, new ClientError('RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE', 'too big', { status: 413 }), 0.5, undefined)).toBeUndefined();
    expect(retryDelayMs(retry, 1, new ClientError('RESOURCE_EXHAUSTED', 'HEADERS_TOO_LARGE', 'too big', { status: 431 }), 0.5, undefined)).toBeUndefined();
    expect(retryDelayMs(retry, 1, new ClientError('DEADLINE_EXCEEDED', 'REQUEST_TIMEOUT', 'slow upload', { status: 408 }), 0.5, undefined)).toBe(50);
    // Without a reason (another server), the code decides.
    expect(retryDelayMs(retry, 1, new ClientError('RESOURCE_EXHAUSTED', undefined, 'full', { status: 429 }), 0.5, undefined)).toBe(50);
    // Without a reason, a status that names one by itself decides (a proxy's bare 413 or 408).
    expect(retryDelayMs(retry, 1, new ClientError('RESOURCE_EXHAUSTED', undefined, 'too big', { status: 413, transport: 'rest' }), 0.5, undefined)).toBeUndefined();
    expect(retryDelayMs(retry, 1, new ClientError('DEADLINE_EXCEEDED', undefined, 'slow upload', { status: 408, transport: 'rest' }), 0.5, undefined)).toBe(50);
    // A gRPC status number is not an HTTP status: gRPC's 8 (RESOURCE_EXHAUSTED) is retried.
    expect(retryDelayMs(retry, 1, new ClientError('RESOURCE_EXHAUSTED', undefined, 'full', { status: 8, transport: 'grpc' }), 0.5, undefined)).toBe(50);
  });

  it('waits at least the Retry-After, and gives up when it is longer than maxRetryAfterMs', () => {
    expect(retryDelayMs(retry, 1, unavailable(2000), 0.1, undefined)).toBe(2000);
    expect(retryDelayMs(resolveRetry({ maxRetryAfterMs: 1000 }), 1, unavailable(2000), 0.1, undefined)).toBeUndefined();
  });

  it('gives up when the attempts are used up or the wait would pass the deadline', () => {
    expect(retryDelayMs(retry, 5, unavailable(), 0.5, undefined)).toBeUndefined();
    expect(retryDelayMs(retry, 1, unavailable(), 0.5, 40)).toBeUndefined();
    expect(retryDelayMs(retry, 1, unavailable(), 0.5, 60)).toBe(50);
  });
});

describe('resolveRetry', () => {
  it('fills defaults, and false means one attempt', () => {
    expect(resolveRetry(undefined)).toEqual(DEFAULT_RETRY);
    expect(resolveRetry(false).maxAttempts).toBe(1);
  });

  it('refuses values out of range, naming the field', () => {
    expect(() => resolveRetry({ maxAttempts: 0 })).toThrow('retry.maxAttempts is 0; expected a number ≥ 1');
    expect(() => resolveRetry({ multiplier: 0.5 })).toThrow('retry.multiplier is 0.5');
    expect(() => resolveRetry({ maxAttempts: 2.5 })).toThrow('whole number');
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
