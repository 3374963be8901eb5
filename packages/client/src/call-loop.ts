// One call as every client surface makes it (inference and management alike): attempts under
// one deadline and the caller's signal, retried with backoff on what the error table of
// @sibyl/protocol calls retriable. Every failure comes out as a ClientError.
import { ClientError, asClientError, type Transport } from './errors.ts';
import { DEFAULT_RETRY, resolveRetry, retryDelayMs, type ResolvedRetry, type RetryOptions } from './retry.ts';
import type { CallContext } from './transport.ts';

/** What every client takes: deadlines, retries, and the sources of time and randomness. */
export interface CallLoopOptions {
  /** Deadline of every call (all its attempts together), in ms; 0: none. Default: 30000. */
  timeoutMs?: number;
  /** Retries on UNAVAILABLE and RESOURCE_EXHAUSTED; `false`: none. Default: 3 attempts, 50 ms initial backoff. */
  retry?: RetryOptions | false;
  /** Sources of time and randomness (tests). Defaults: Date.now, setTimeout, Math.random. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** What one call may override. */
export interface CallOptions {
  /** This call's deadline in ms (overrides the client's). */
  timeoutMs?: number;
  /** Cancels the call: it fails with CANCELLED (reason REQUEST_CANCELLED). */
  signal?: AbortSignal;
  /** This call's retries (overrides the client's). */
  retry?: RetryOptions | false;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class CallLoop {
  private readonly timeoutMs: number;
  private readonly retry: ResolvedRetry;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  /** `target` names where calls go, for messages. @throws TypeError for options out of range. */
  constructor(
    private readonly kind: Transport,
    private readonly target: string,
    options: CallLoopOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (!(Number.isFinite(this.timeoutMs) && this.timeoutMs >= 0)) throw new TypeError(`timeoutMs is ${options.timeoutMs}; expected a number of ms ≥ 0`);
    this.retry = resolveRetry(options.retry, DEFAULT_RETRY);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /**
   * Runs `call` once per attempt under one deadline and the caller's signal; retries as the
   * retry options say, and only errors `retryable` accepts (default: all the table's retriable
   * ones). Every failure is a ClientError.
   */
  async run<T>(options: CallOptions | undefined, call: (ctx: CallContext) => Promise<T>, retryable: (error: ClientError) => boolean = () => true): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const retry = options?.retry === undefined ? this.retry : resolveRetry(options.retry, this.retry);
    const deadlineMs = timeoutMs > 0 ? this.now() + timeoutMs : undefined;
    const controller = new AbortController();
    const what = this.target;
    const timer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => controller.abort(new ClientError('DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', `no answer from ${what} within the deadline of ${timeoutMs} ms`, { transport: this.kind })), timeoutMs);
    const caller = options?.signal;
    const onCallerAbort = (): void => controller.abort(new ClientError('CANCELLED', 'REQUEST_CANCELLED', 'the call was cancelled by its caller', { transport: this.kind, cause: caller?.reason }));
    if (caller?.aborted) onCallerAbort();
    else caller?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      for (let attempt = 1; ; attempt++) {
        if (controller.signal.aborted) throw controller.signal.reason as ClientError;
        try {
          return await call({ signal: controller.signal, deadlineMs });
        } catch (err) {
          const error = controller.signal.aborted ? (controller.signal.reason as ClientError) : asClientError(err, this.kind);
          const delay =
            controller.signal.aborted || !retryable(error) ? undefined : retryDelayMs(retry, attempt, error, this.random(), deadlineMs === undefined ? undefined : deadlineMs - this.now());
          if (delay === undefined) throw error;
          try {
            await this.sleep(delay, controller.signal);
          } catch {
            throw controller.signal.reason as ClientError;
          }
        }
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }
}
