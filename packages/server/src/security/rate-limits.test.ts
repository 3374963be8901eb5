import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { RateLimitsConfig } from '../config/rate-limit-config.ts';
import { compileServerConfig, environmentLayer, serverConfigDefaults } from '../config/server-config.ts';
import { ConfigError } from '../config/validate.ts';
import { SettableClock } from '../testing/rate-limiter-contract.ts';
import { longestRefillMs, rateLimitsOn, RateLimits, requestBuckets } from './rate-limits.ts';

const D = { ratePerSecond: 10, burst: 20 };
const ANON = { ratePerSecond: 1, burst: 2 };
const ALICE = { ratePerSecond: 100, burst: 100 };
const IRIS = { ratePerSecond: 5, burst: 5 };
const T = { ratePerSecond: 50, burst: 50 };
const base = serverConfigDefaults('/models').rateLimits;
const config = (extra: Partial<RateLimitsConfig>): RateLimitsConfig => ({ ...base, ...extra });
const alice = { id: 'alice', scopes: [] };
const bob = { id: 'bob', scopes: [] };

describe('the configuration', () => {
  it('sets no bucket by default: rate limits are off', () => {
    expect(base).toEqual({ backend: 'memory', redisUrl: 'redis://127.0.0.1:6379', redisKeyPrefix: 'sibyl:ratelimit:', redisTimeoutMs: 50 });
    expect(rateLimitsOn(base)).toBe(false);
    expect(RateLimits.create(base, { clock: new SettableClock(0), log: pino({ level: 'silent' }) })).toBeUndefined();
  });

  it.each<[string, Partial<RateLimitsConfig>, boolean]>([
    ['a principal default', { perPrincipal: { default: D } }, true],
    ['an anonymous bucket', { perPrincipal: { anonymous: ANON } }, true],
    ['one named principal', { perPrincipal: { principals: { alice: ALICE } } }, true],
    ['a target default', { perTarget: { default: T } }, true],
    ['one named target', { perTarget: { targets: { iris: IRIS } } }, true],
    ['empty sections', { perPrincipal: { principals: {} }, perTarget: { targets: {} } }, false],
  ])('is on with %s', (_, extra, on) => {
    expect(rateLimitsOn(config(extra))).toBe(on);
  });

  it('compiles from sibyl.yaml and the environment, and names a wrong field', () => {
    const defaults = serverConfigDefaults('/models');
    const compiled = compileServerConfig({
      defaults,
      file: { path: 's.yaml', document: { rateLimits: { perPrincipal: { default: D, principals: { alice: ALICE } }, perTarget: { targets: { iris: IRIS } } } } },
      env: environmentLayer({ SIBYL_RATE_LIMITS_BACKEND: 'redis', SIBYL_RATE_LIMITS_PER_TARGET_DEFAULT_RATE_PER_SECOND: '2.5', SIBYL_RATE_LIMITS_PER_TARGET_DEFAULT_BURST: '3' }).layer,
      flags: {},
    });
    expect(compiled.rateLimits).toEqual({ ...base, backend: 'redis', perPrincipal: { default: D, principals: { alice: ALICE } }, perTarget: { default: { ratePerSecond: 2.5, burst: 3 }, targets: { iris: IRIS } } });
    const problems = (document: unknown): string => {
      try {
        compileServerConfig({ defaults, file: { path: 's.yaml', document }, env: {}, flags: {} });
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return '';
    };
    expect(problems({ rateLimits: { perTarget: { targets: { iris: { ratePerSecond: 0, burst: 1 } } } } })).toMatch(/rateLimits\.perTarget\.targets\.iris\.ratePerSecond/);
    expect(problems({ rateLimits: { perPrincipal: { default: { ratePerSecond: 1, burst: 0.5 } } } })).toMatch(/rateLimits\.perPrincipal\.default\.burst/);
    expect(problems({ rateLimits: { perPrincipal: { default: { ratePerSecond: 1 } } } })).toMatch(/burst/);
    expect(problems({ rateLimits: { backend: 'memcached' } })).toMatch(/rateLimits\.backend/);
    expect(problems({ rateLimits: { perUser: {} } })).toMatch(/perUser: unknown field/);
  });
});

describe('requestBuckets', () => {
  const all = config({ perPrincipal: { default: D, anonymous: ANON, principals: { alice: ALICE } }, perTarget: { default: T, targets: { iris: IRIS } } });
  it.each<[string, RateLimitsConfig, { id: string; scopes: string[] } | undefined, string, [string, string, object][]]>([
    ['a listed principal and a listed target', all, alice, 'iris', [['principal', 'p:alice', ALICE], ['target', 't:iris', IRIS]]],
    ['an unlisted principal gets the default; an unlisted target too', all, bob, 'other', [['principal', 'p:bob', D], ['target', 't:other', T]]],
    ['no principal: the one anonymous bucket', all, undefined, 'iris', [['principal', 'a', ANON], ['target', 't:iris', IRIS]]],
    ['no anonymous bucket: anonymous callers get the default', config({ perPrincipal: { default: D } }), undefined, 'iris', [['principal', 'a', D]]],
    ['only named principals: others are not limited', config({ perPrincipal: { principals: { alice: ALICE } } }), bob, 'iris', []],
    ['only named targets: others are not limited', config({ perTarget: { targets: { iris: IRIS } } }), alice, 'other', []],
    ['a principal called like the anonymous key has its own bucket', config({ perPrincipal: { default: D } }), { id: 'a', scopes: [] }, 'm', [['principal', 'p:a', D]]],
    ['a target named like a principal key stays a target', config({ perTarget: { default: T } }), undefined, 'p:alice', [['target', 't:p:alice', T]]],
    ["names of Object's prototype are names like others", all, { id: 'constructor', scopes: [] }, '__proto__', [['principal', 'p:constructor', D], ['target', 't:__proto__', T]]],
    ['…also when nothing is listed', config({ perPrincipal: { principals: { alice: ALICE } }, perTarget: { targets: { iris: IRIS } } }), { id: 'toString', scopes: [] }, 'constructor', []],
  ])('%s', (_, c, principal, target, expected) => {
    const { buckets, kinds } = requestBuckets(c, principal, target);
    expect(buckets.map((b, i) => [kinds[i], b.key, b.limit])).toEqual(expected);
  });

  it('longestRefillMs is the slowest bucket from empty to full', () => {
    expect(longestRefillMs(all)).toBe(2000); // anonymous: 2 tokens at 1/s
    expect(longestRefillMs(base)).toBe(0);
  });
});

describe('RateLimits.admit', () => {
  it('refuses with RATE_LIMITED, Retry-After in whole seconds, and which bucket and principal', () => {
    const limits = RateLimits.create(config({ perPrincipal: { default: { ratePerSecond: 0.25, burst: 1 } }, perTarget: { targets: { iris: { ratePerSecond: 2, burst: 1 } } } }), {
      clock: new SettableClock(0),
      log: pino({ level: 'silent' }),
    })!;
    expect(limits.kind).toBe('memory');
    expect(limits.admit('iris', alice)).toBeUndefined();
    const byPrincipal = limits.admit('iris', alice);
    expect(byPrincipal).toMatchObject({ principal: 'alice', limit: 'principal', error: { reason: 'RATE_LIMITED', code: 'RESOURCE_EXHAUSTED', httpStatus: 429, details: { retryAfterSeconds: 4, limit: 'principal' } } });
    expect((byPrincipal as { error: Error }).error.message).toBe("'alice' is over its rate limit: 0.25 requests/s (burst 1) is used up; retry after 4 s");
    const byTarget = limits.admit('iris', bob);
    expect(byTarget).toMatchObject({ principal: 'bob', limit: 'target', error: { details: { retryAfterSeconds: 1, limit: 'target' } } });
    expect((byTarget as { error: Error }).error.message).toBe("'iris' is over its rate limit for all callers: 2 requests/s (burst 1) is used up; retry after 1 s");
    // bob's refused request took nothing from his own bucket.
    expect(limits.admit('other', bob)).toBeUndefined();
    const anonymous = limits.admit('other', undefined);
    expect(anonymous).toBeUndefined();
    expect(limits.admit('other', undefined)).toMatchObject({ principal: 'anonymous', limit: 'principal' });
    expect((limits.admit('other', undefined) as { error: Error }).error.message).toMatch(/^requests without credentials share one rate limit: /);
  });
});
