// Which buckets a request takes a token from, and what a refusal says. A request takes one token
// from its principal's bucket (perPrincipal) and one from the bucket of the name it calls
// (perTarget), from both or from neither. The serving core asks admit() once per request, at its
// one door; batch jobs never ask (they do not come through it).
//
// Callers without a principal (authentication off) share one `anonymous` bucket rather than one
// per client address: on the default loopback bind every client has the same address anyway; on
// any other bind authentication is expected; behind a proxy the address is the proxy's; and a
// bucket per address lets a caller with many addresses make as many buckets as it likes.
import { SibylError } from '@sibyl/protocol';
import type { Logger } from 'pino';
import type { BucketLimitConfig, RateLimitsConfig } from '../config/rate-limit-config.ts';
import type { Clock } from '../core/clock.ts';
import type { ComponentHealth } from '../core/component-health.ts';
import type { Principal } from '../core/request-context.ts';
import { MemoryRateLimiter } from './memory-rate-limiter.ts';
import type { RateBucket, RateDecision, RateLimiter } from './rate-limiter.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';
import { retryAfterSeconds } from './token-bucket.ts';

/** The principal label of requests without a principal (metrics, messages). */
export const ANONYMOUS = 'anonymous';

export type LimitKind = 'principal' | 'target';

/** A request refused by a bucket. */
export interface RateLimitRefusal {
  readonly error: SibylError;
  /** The principal's id, or ANONYMOUS. */
  readonly principal: string;
  /** Which bucket refused (the one with the longest wait when both did). */
  readonly limit: LimitKind;
}

/** The buckets of one request, with what each stands for (same order). */
export interface RequestBuckets {
  readonly buckets: readonly RateBucket[];
  readonly kinds: readonly LimitKind[];
}

/** A map's own entry: a name such as `constructor` or `__proto__` (a caller's input) is no key of Object's prototype. */
function entry(map: Readonly<Record<string, BucketLimitConfig>> | undefined, name: string): BucketLimitConfig | undefined {
  return map !== undefined && Object.hasOwn(map, name) ? map[name] : undefined;
}

/** Whether the configuration sets any bucket at all (none: rate limits are off). */
export function rateLimitsOn(config: RateLimitsConfig): boolean {
  const p = config.perPrincipal;
  const t = config.perTarget;
  return p?.default !== undefined || p?.anonymous !== undefined || Object.keys(p?.principals ?? {}).length > 0 || t?.default !== undefined || Object.keys(t?.targets ?? {}).length > 0;
}

/**
 * The buckets a request for `target` by `principal` takes from. Keys: `p:<id>` for a principal,
 * `a` for the anonymous bucket, `t:<name>` for a target — distinct whatever the names.
 */
export function requestBuckets(config: RateLimitsConfig, principal: Principal | undefined, target: string): RequestBuckets {
  const buckets: RateBucket[] = [];
  const kinds: LimitKind[] = [];
  const p = config.perPrincipal;
  if (p !== undefined) {
    const limit = principal === undefined ? (p.anonymous ?? p.default) : (entry(p.principals, principal.id) ?? p.default);
    if (limit !== undefined) {
      buckets.push({ key: principal === undefined ? 'a' : `p:${principal.id}`, limit });
      kinds.push('principal');
    }
  }
  const t = config.perTarget;
  if (t !== undefined) {
    const limit = entry(t.targets, target) ?? t.default;
    if (limit !== undefined) {
      buckets.push({ key: `t:${target}`, limit });
      kinds.push('target');
    }
  }
  return { buckets, kinds };
}

/** The longest time any configured bucket takes to refill from empty (ms): idle longer, a bucket is full. */
export function longestRefillMs(config: RateLimitsConfig): number {
  const limits: BucketLimitConfig[] = [];
  const p = config.perPrincipal;
  const t = config.perTarget;
  for (const l of [p?.default, p?.anonymous, t?.default, ...Object.values(p?.principals ?? {}), ...Object.values(t?.targets ?? {})]) if (l !== undefined) limits.push(l);
  return Math.max(0, ...limits.map((l) => (l.burst * 1000) / l.ratePerSecond));
}

/** The refusal of a request whose bucket `kind` had no token. */
export function refusal(decision: RateDecision, kind: LimitKind, limit: BucketLimitConfig, principal: Principal | undefined, target: string): RateLimitRefusal {
  const seconds = retryAfterSeconds(decision.retryAfterMs);
  const rate = `${limit.ratePerSecond} requests/s (burst ${limit.burst})`;
  const who = principal === undefined ? 'requests without credentials share one rate limit' : `'${principal.id}' is over its rate limit`;
  const message = kind === 'principal' ? `${who}: ${rate} is used up; retry after ${seconds} s` : `'${target}' is over its rate limit for all callers: ${rate} is used up; retry after ${seconds} s`;
  return {
    error: new SibylError('RATE_LIMITED', message, { details: { retryAfterSeconds: seconds, limit: kind } }),
    principal: principal?.id ?? ANONYMOUS,
    limit: kind,
  };
}

/** The rate limits of a serving core: the configuration's buckets, kept by a limiter. */
export class RateLimits {
  constructor(
    private readonly config: RateLimitsConfig,
    private readonly limiter: RateLimiter,
  ) {}

  /** The limits the configuration sets, kept where it says; undefined when it sets none (off). */
  static create(config: RateLimitsConfig, deps: { clock: Clock; log: Logger; health?: ComponentHealth }): RateLimits | undefined {
    if (!rateLimitsOn(config)) return undefined;
    const limiter: RateLimiter =
      config.backend === 'redis'
        ? RedisRateLimiter.create({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, timeoutMs: config.redisTimeoutMs, clock: deps.clock, log: deps.log, health: deps.health })
        : new MemoryRateLimiter(deps.clock, longestRefillMs(config));
    const where = config.backend === 'redis' ? `in Redis (${config.redisKeyPrefix}*), shared by replicas` : 'in memory, per replica';
    deps.log.info(`rate limits on: buckets per ${[config.perPrincipal === undefined ? '' : 'principal', config.perTarget === undefined ? '' : 'model or endpoint'].filter((s) => s !== '').join(' and ')}, kept ${where}`);
    return new RateLimits(config, limiter);
  }

  get kind(): RateLimiter['kind'] {
    return this.limiter.kind;
  }

  /**
   * Takes a token for a request for `target` by `principal`: undefined when allowed, the refusal
   * otherwise. Synchronous with the memory backend.
   */
  admit(target: string, principal: Principal | undefined): RateLimitRefusal | undefined | Promise<RateLimitRefusal | undefined> {
    const { buckets, kinds } = requestBuckets(this.config, principal, target);
    if (buckets.length === 0) return undefined;
    const decision = this.limiter.take(buckets);
    const judge = (d: RateDecision): RateLimitRefusal | undefined => (d.allowed ? undefined : refusal(d, kinds[d.refusedBy]!, buckets[d.refusedBy]!.limit, principal, target));
    return decision instanceof Promise ? decision.then(judge) : judge(decision);
  }

  close(): Promise<void> {
    return this.limiter.close();
  }
}
