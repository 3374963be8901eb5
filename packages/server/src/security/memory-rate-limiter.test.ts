import { describe, expect, it } from 'vitest';
import { rateLimiterContract, SettableClock } from '../testing/rate-limiter-contract.ts';
import { MemoryRateLimiter } from './memory-rate-limiter.ts';

rateLimiterContract('memory', { open: async (clock) => new MemoryRateLimiter(clock, 60_000) });

describe('MemoryRateLimiter', () => {
  it('forgets buckets idle long enough to be full again, a few per request, so memory follows the active callers', () => {
    const clock = new SettableClock(0);
    const limiter = new MemoryRateLimiter(clock, 1000);
    const limit = { ratePerSecond: 1, burst: 1 };
    for (let i = 0; i < 50; i++) limiter.take([{ key: `k${i}`, limit }]);
    expect(limiter.size).toBe(50);
    clock.timeMs = 999;
    limiter.take([{ key: 'late', limit }]);
    expect(limiter.size).toBe(51);
    // The sweep is due: each request advances it by 16 buckets.
    clock.timeMs = 1000;
    limiter.take([{ key: 'later', limit }]);
    expect(limiter.size).toBe(52 - 16);
    for (let i = 0; i < 3; i++) limiter.take([{ key: 'later', limit: { ratePerSecond: 1000, burst: 1000 } }]);
    expect(limiter.size).toBe(2);
    // A forgotten bucket is a full one: the same answer as if it had been kept.
    expect(limiter.take([{ key: 'k0', limit }]).allowed).toBe(true);
  });

  it('keeps at most maxBuckets, dropping the first made', () => {
    const clock = new SettableClock(0);
    const limiter = new MemoryRateLimiter(clock, 60_000, 3);
    const limit = { ratePerSecond: 1, burst: 2 };
    for (const key of ['a', 'b', 'c']) limiter.take([{ key, limit }]); // one token left in each
    limiter.take([{ key: 'd', limit }]);
    expect(limiter.size).toBe(3);
    // a was dropped: full again (two tokens); b was kept (one).
    expect([limiter.take([{ key: 'a', limit }]).allowed, limiter.take([{ key: 'a', limit }]).allowed]).toEqual([true, true]);
    expect([limiter.take([{ key: 'c', limit }]).allowed, limiter.take([{ key: 'c', limit }]).allowed]).toEqual([true, false]);
  });

  it('starts a sweep at most once per interval', () => {
    const clock = new SettableClock(0);
    const limiter = new MemoryRateLimiter(clock, 10);
    const limit = { ratePerSecond: 100, burst: 1 };
    limiter.take([{ key: 'x', limit }]);
    clock.timeMs = 500; // x is full again, but the next sweep starts at 1000 (the least interval)
    limiter.take([{ key: 'y', limit }]);
    expect(limiter.size).toBe(2);
    clock.timeMs = 1000;
    limiter.take([{ key: 'z', limit }]);
    expect(limiter.size).toBe(1);
    clock.timeMs = 1500;
    limiter.take([{ key: 'w', limit }]);
    expect(limiter.size).toBe(2);
  });
});
