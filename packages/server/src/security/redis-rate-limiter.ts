// Token buckets in Redis, shared by every replica that names the same Redis and key prefix. One
// Lua script (atomic on the server) does token-bucket.ts's arithmetic on all of a request's
// buckets at once: each a hash {t: tokens, u: last refill, ms}, expiring once it would be full
// again (absent = full, as in memory). Time is the replica's clock in epoch ms; a bucket's time
// never moves back, so a replica whose clock lags refills nothing rather than too much.
//
// Redis down or slow: requests are let through (rate limits fail open — an outage of the limiter
// must not become an outage of inference), the `rate_limiter` component is degraded, and Redis is
// asked again at most once per RETRY_AFTER_FAILURE_MS meanwhile, so a stalled Redis costs one
// timeout a second, not one per request. Commands time out after timeoutMs and are not queued
// while disconnected.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { redactUrl } from '../batch/redact-url.ts';
import type { Clock } from '../core/clock.ts';
import type { ComponentHealth } from '../core/component-health.ts';
import { ALLOWED, type RateBucket, type RateDecision, type RateLimiter } from './rate-limiter.ts';

/** While Redis fails, the time between two attempts (requests pass without asking in between). */
const RETRY_AFTER_FAILURE_MS = 1000;
/** Between two warnings in the log while Redis fails. */
const WARN_EVERY_MS = 10_000;

/**
 * KEYS: the buckets. ARGV[1]: now (ms); ARGV[2]: cost; then ratePerSecond and burst of each bucket.
 * Returns {allowed (0/1), retryAfterMs (rounded as wholeMs), refusedBy (1-based; 0 when allowed)}.
 * The arithmetic is takeTokens's (token-bucket.ts), in the same order of operations.
 */
export const TAKE_TOKENS_LUA = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local tokens, stamps = {}, {}
local wait, refusing = 0, 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  local state = redis.call('HMGET', KEYS[i], 't', 'u')
  local t, u = burst, now
  if state[1] then
    t = tonumber(state[1])
    u = tonumber(state[2])
    local elapsed = now - u
    if elapsed > 0 then
      t = t + (elapsed * rate) / 1000
      u = now
    end
    if t > burst then t = burst end
  end
  tokens[i], stamps[i] = t, u
  if t < cost then
    local w = ((cost - t) * 1000) / rate
    if w > wait then wait, refusing = w, i end
  end
end
if refusing > 0 then return {0, math.max(1, math.ceil(wait - 1e-6)), refusing} end
for i = 1, #KEYS do
  local rate = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  local t = tokens[i] - cost
  redis.call('HSET', KEYS[i], 't', string.format('%.17g', t), 'u', string.format('%.17g', stamps[i]))
  redis.call('PEXPIRE', KEYS[i], string.format('%d', math.ceil(((burst - t) * 1000) / rate) + 1000))
end
return {1, 0, 0}
`;

type TakeCommand = (numKeys: number, ...args: (string | number)[]) => Promise<[number, number, number]>;

export interface RedisRateLimiterOptions {
  url: string;
  keyPrefix: string;
  timeoutMs: number;
  /** Its epochMs() is the buckets' time: replicas' clocks share an origin. */
  clock: Clock;
  log: Logger;
  health?: ComponentHealth;
}

export class RedisRateLimiter implements RateLimiter {
  readonly kind = 'redis';
  private closed = false;
  private warnedAtMs = Number.NEGATIVE_INFINITY;
  /** While Redis fails: the clock time (now()) of the next attempt. */
  private pausedUntilMs = Number.NEGATIVE_INFINITY;
  private readonly takeCommand: TakeCommand;

  private constructor(
    private readonly redis: Redis,
    private readonly options: RedisRateLimiterOptions,
  ) {
    redis.defineCommand('sibylTakeTokens', { lua: TAKE_TOKENS_LUA });
    this.takeCommand = (redis as unknown as { sibylTakeTokens: TakeCommand }).sibylTakeTokens.bind(redis);
  }

  /**
   * Connects in the background (the first commands may find it not yet connected: they pass).
   * @throws Error when the URL is not a Redis URL.
   */
  static create(options: RedisRateLimiterOptions): RedisRateLimiter {
    const redis = new Redis(options.url, { enableOfflineQueue: false, commandTimeout: options.timeoutMs, connectTimeout: Math.max(1000, options.timeoutMs), maxRetriesPerRequest: 1 });
    const limiter = new RedisRateLimiter(redis, options);
    // Never the password of the URL: these reasons reach the log and the readiness body.
    const shown = redactUrl(options.url);
    redis.on('error', (err: Error) => limiter.failed(`Redis ${shown}: ${err.message}`));
    redis.on('close', () => {
      if (!limiter.closed) limiter.failed(`Redis ${shown}: the connection closed`);
    });
    return limiter;
  }

  /** Waits until connected (for tests and start-up checks). */
  async ready(): Promise<void> {
    if (this.redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        this.redis.once('ready', resolve);
        this.redis.once('end', () => reject(new Error('the Redis connection ended')));
      });
    }
  }

  take(buckets: readonly RateBucket[]): RateDecision | Promise<RateDecision> {
    if (buckets.length === 0 || this.closed) return ALLOWED;
    if (this.options.clock.now() < this.pausedUntilMs) return ALLOWED;
    const args: (string | number)[] = buckets.map((b) => this.options.keyPrefix + b.key);
    args.push(this.options.clock.epochMs(), 1);
    for (const b of buckets) args.push(b.limit.ratePerSecond, b.limit.burst);
    return this.takeCommand(buckets.length, ...args).then(
      ([allowed, retryAfterMs, refusedBy]): RateDecision => {
        this.options.health?.succeeded('rate_limiter');
        this.pausedUntilMs = Number.NEGATIVE_INFINITY;
        return allowed === 1 ? ALLOWED : { allowed: false, retryAfterMs, refusedBy: refusedBy - 1 };
      },
      (err: unknown) => {
        this.failed(`Redis command failed: ${(err as Error).message}`);
        return ALLOWED;
      },
    );
  }

  private failed(reason: string): void {
    if (this.closed) return;
    this.options.health?.failed('rate_limiter', reason);
    const now = this.options.clock.now();
    this.pausedUntilMs = now + RETRY_AFTER_FAILURE_MS;
    if (now - this.warnedAtMs >= WARN_EVERY_MS) {
      this.warnedAtMs = now;
      this.options.log.warn(`rate limits: ${reason}; requests are let through without rate limits until Redis answers again`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.redis.disconnect();
  }
}
