// The Redis rate limiter against a real Redis: the RateLimiter contract (the Lua script does
// the memory limiter's arithmetic), one budget shared by two limiters (two replicas), and keys
// that expire once their bucket would be full again. REDIS_URL overrides the default
// redis://127.0.0.1:6379; the test fails, never skips, without a Redis.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { ComponentHealth } from '../../src/core/component-health.ts';
import { RedisRateLimiter } from '../../src/security/redis-rate-limiter.ts';
import { rateLimiterContract, SettableClock } from '../../src/testing/rate-limiter-contract.ts';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `sibyl-test-${randomUUID()}:`;
const log = pino({ level: 'silent' });
let admin: Redis;

beforeAll(async () => {
  admin = new Redis(URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await admin.connect();
    await admin.ping();
  } catch (err) {
    throw new Error(`these tests need Redis at ${URL} (set REDIS_URL): ${(err as Error).message}. Start one with: redis-server --daemonize yes --port 6379`, { cause: err });
  }
});

afterAll(async () => {
  const keys = await admin.keys(`${PREFIX}*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
});

async function open(clock: Clock, health?: ComponentHealth): Promise<RedisRateLimiter> {
  const limiter = RedisRateLimiter.create({ url: URL, keyPrefix: PREFIX, timeoutMs: 1000, clock, log, health });
  await limiter.ready();
  return limiter;
}

rateLimiterContract('redis', { open: (clock) => open(clock) });

describe('RedisRateLimiter', () => {
  it('two replicas share one budget', async () => {
    const clock = new SettableClock(1_765_000_000_000);
    const [a, b] = [await open(clock), await open(clock)];
    try {
      const bucket = [{ key: `shared-${randomUUID()}`, limit: { ratePerSecond: 1, burst: 4 } }];
      const outcomes: boolean[] = [];
      for (let i = 0; i < 3; i++) outcomes.push((await a.take(bucket)).allowed, (await b.take(bucket)).allowed);
      expect(outcomes).toEqual([true, true, true, true, false, false]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('stores a bucket as a hash that expires once it would be full again, and reports itself healthy', async () => {
    const clock = new SettableClock(1_765_000_000_000);
    const health = new ComponentHealth(clock);
    health.failed('rate_limiter', 'earlier');
    const limiter = await open(clock, health);
    try {
      const key = `ttl-${randomUUID()}`;
      expect((await limiter.take([{ key, limit: { ratePerSecond: 2, burst: 10 } }])).allowed).toBe(true);
      const stored = await admin.hgetall(PREFIX + key);
      expect(Number(stored.t)).toBe(9);
      expect(Number(stored.u)).toBe(1_765_000_000_000);
      // One token short of full at 2/s: full after 500 ms; kept a second longer.
      const ttl = await admin.pttl(PREFIX + key);
      expect(ttl).toBeGreaterThan(1000);
      expect(ttl).toBeLessThanOrEqual(1500);
      expect(health.isDegraded('rate_limiter')).toBe(false);
    } finally {
      await limiter.close();
    }
  });
});
