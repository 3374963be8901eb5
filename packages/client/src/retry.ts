// Retries with exponential backoff and full jitter, honouring the server's Retry-After. The
// delay is a pure function of the attempt, the error and a random number, so it is tested
// without sleeping; the loop takes its clock, sleep and random source from the client.
import { shouldRetry, type ClientError } from './errors.ts';

export interface RetryOptions {
  /** Attempts in all, the first included (1: no retry). Default: 3. */
  maxAttempts?: number;
  /** Backoff ceiling of the first retry, in ms; doubles (multiplier) each retry. Default: 50. */
  initialBackoffMs?: number;
  /** Largest backoff ceiling, in ms. Default: 2000. */
  maxBackoffMs?: number;
  /** Growth of the ceiling per retry. Default: 2. */
  multiplier?: number;
  /** A Retry-After longer than this ends the retries at once, in ms. Default: 30000. */
  maxRetryAfterMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetry = { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 2000, multiplier: 2, maxRetryAfterMs: 30_000 };

/** Options with defaults; `false` means one attempt. @throws TypeError for values out of range. */
export function resolveRetry(options: RetryOptions | false | undefined, base: ResolvedRetry = DEFAULT_RETRY): ResolvedRetry {
  if (options === false) return { ...base, maxAttempts: 1 };
  const r = { ...base, ...options };
  for (const [key, min] of [['maxAttempts', 1], ['initialBackoffMs', 0], ['maxBackoffMs', 0], ['multiplier', 1], ['maxRetryAfterMs', 0]] as const) {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new TypeError(`retry.${key} is ${String(v)}; expected a number ≥ ${min}`);
  }
  if (!Number.isInteger(r.maxAttempts)) throw new TypeError(`retry.maxAttempts is ${r.maxAttempts}; expected a whole number of attempts`);
  return r;
}

/**
 * How long to wait before attempt `attempt + 1` after `error` on attempt `attempt` (1-based), or
 * undefined to give up: the error is not retriable (the error table of @sibyl/protocol), the attempts are used up, the server's
 * Retry-After is beyond maxRetryAfterMs, or the wait would pass `msLeft` (time to the deadline).
 * Full jitter: uniform in [0, min(maxBackoffMs, initialBackoffMs · multiplier^(attempt-1))),
 * and never less than the Retry-After.
 */
export function retryDelayMs(retry: ResolvedRetry, attempt: number, error: ClientError, random: number, msLeft: number | undefined): number | undefined {
  if (!shouldRetry(error) || attempt >= retry.maxAttempts) return undefined;
  const ceiling = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * retry.multiplier ** (attempt - 1));
  let delay = random * ceiling;
  if (error.retryAfterMs !== undefined) {
    if (error.retryAfterMs > retry.maxRetryAfterMs) return undefined;
    delay = Math.max(delay, error.retryAfterMs);
  }
  if (msLeft !== undefined && delay >= msLeft) return undefined;
  return delay;
}

/** Parses a Retry-After header (delay-seconds or an HTTP date) into ms from `nowMs`; undefined if absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
