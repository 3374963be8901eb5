// The contract every RateLimiter backend passes (DESIGN.md, Conventions 3): the memory limiter
// in the unit tests, the Redis one against a real Redis in the integration tests. Time is a
// clock the suite moves (both its now() and its epochMs()), so no test sleeps; keys are unique
// per test, so runs against a shared Redis never meet.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CancelTimer, Clock } from '../core/clock.ts';
import type { RateBucket, RateDecision, RateLimiter } from '../security/rate-limiter.ts';

/** A clock set by hand, forwards or back (another replica's clock may lag). */
export class SettableClock implements Clock {
  constructor(public timeMs: number) {}
  now(): number {
    return this.timeMs;
  }
  epochMs(): number {
    return this.timeMs;
  }
  setTimeout(): CancelTimer {
    throw new Error('SettableClock has no timers');
  }
}

export interface RateLimiterUnderTest {
  /** A limiter on `clock` (each call a new one; the suite closes it). */
  open(clock: Clock): Promise<RateLimiter>;
}

const take = async (limiter: RateLimiter, buckets: readonly RateBucket[]): Promise<RateDecision> => await limiter.take(buckets);

export function rateLimiterContract(name: string, subject: RateLimiterUnderTest): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const run = async (body: (limiter: RateLimiter, clock: SettableClock, key: (k: string) => string) => Promise<void>): Promise<void> => {
      const clock = new SettableClock(1_765_000_000_000);
      const limiter = await subject.open(clock);
      const id = randomUUID();
      try {
        await body(limiter, clock, (k) => `${id}:${k}`);
      } finally {
        await limiter.close();
      }
    };

    it('lets a burst through, refuses the next with the wait for one token, and refills with time', () =>
      run(async (limiter, clock, key) => {
        const bucket = [{ key: key('b'), limit: { ratePerSecond: 10, burst: 3 } }];
        const outcomes: boolean[] = [];
        for (let i = 0; i < 4; i++) outcomes.push((await take(limiter, bucket)).allowed);
        expect(outcomes).toEqual([true, true, true, false]);
        expect(await take(limiter, bucket)).toEqual({ allowed: false, retryAfterMs: 100, refusedBy: 0 });
        clock.timeMs += 60;
        expect(await take(limiter, bucket)).toEqual({ allowed: false, retryAfterMs: 40, refusedBy: 0 });
        clock.timeMs += 40;
        expect(await take(limiter, bucket)).toEqual({ allowed: true, retryAfterMs: 0, refusedBy: -1 });
        expect((await take(limiter, bucket)).allowed).toBe(false);
        clock.timeMs += 10_000;
        for (let i = 0; i < 3; i++) expect((await take(limiter, bucket)).allowed).toBe(true);
        expect((await take(limiter, bucket)).allowed).toBe(false);
      }));

    it('keeps fractional tokens between requests and rounds the wait up to a whole ms', () =>
      run(async (limiter, clock, key) => {
        const bucket = [{ key: key('f'), limit: { ratePerSecond: 3, burst: 1 } }];
        expect((await take(limiter, bucket)).allowed).toBe(true);
        clock.timeMs += 100; // 0.3 tokens
        expect(await take(limiter, bucket)).toEqual({ allowed: false, retryAfterMs: 234, refusedBy: 0 });
        clock.timeMs += 200; // 0.9 tokens
        expect(await take(limiter, bucket)).toEqual({ allowed: false, retryAfterMs: 34, refusedBy: 0 });
        clock.timeMs += 34; // 1.002
        expect((await take(limiter, bucket)).allowed).toBe(true);
      }));

    it('takes from every bucket or from none, and names the bucket with the longest wait', () =>
      run(async (limiter, clock, key) => {
        const wide = { key: key('wide'), limit: { ratePerSecond: 100, burst: 2 } };
        const narrow = { key: key('narrow'), limit: { ratePerSecond: 1, burst: 1 } };
        expect((await take(limiter, [wide, narrow])).allowed).toBe(true);
        // narrow is empty: refused, and wide keeps its last token.
        for (let i = 0; i < 3; i++) expect(await take(limiter, [wide, narrow])).toEqual({ allowed: false, retryAfterMs: 1000, refusedBy: 1 });
        expect((await take(limiter, [wide])).allowed).toBe(true);
        // Both empty: the longer wait (narrow's) and its index.
        expect(await take(limiter, [wide, narrow])).toEqual({ allowed: false, retryAfterMs: 1000, refusedBy: 1 });
        clock.timeMs += 995;
        expect(await take(limiter, [narrow, wide])).toEqual({ allowed: false, retryAfterMs: 5, refusedBy: 0 });
        clock.timeMs += 5;
        expect((await take(limiter, [narrow, wide])).allowed).toBe(true);
      }));

    it('keeps buckets apart by key, and allows a request with no bucket', () =>
      run(async (limiter, _clock, key) => {
        const limit = { ratePerSecond: 1, burst: 1 };
        expect((await take(limiter, [{ key: key('x'), limit }])).allowed).toBe(true);
        expect((await take(limiter, [{ key: key('x'), limit }])).allowed).toBe(false);
        expect((await take(limiter, [{ key: key('y'), limit }])).allowed).toBe(true);
        expect(await take(limiter, [])).toEqual({ allowed: true, retryAfterMs: 0, refusedBy: -1 });
      }));

    it('a clock that lags (another replica) refills nothing; the bucket refills from its latest time', () =>
      run(async (limiter, clock, key) => {
        const bucket = [{ key: key('lag'), limit: { ratePerSecond: 10, burst: 1 } }];
        expect((await take(limiter, bucket)).allowed).toBe(true);
        clock.timeMs -= 5000;
        expect(await take(limiter, bucket)).toEqual({ allowed: false, retryAfterMs: 100, refusedBy: 0 });
        clock.timeMs += 5000 + 100;
        expect((await take(limiter, bucket)).allowed).toBe(true);
      }));

    it('applies a changed limit at once: a lowered burst caps what the bucket held', () =>
      run(async (limiter, _clock, key) => {
        const k = key('changed');
        expect((await take(limiter, [{ key: k, limit: { ratePerSecond: 1, burst: 10 } }])).allowed).toBe(true); // 9 left
        const lowered = [{ key: k, limit: { ratePerSecond: 1, burst: 2 } }];
        expect((await take(limiter, lowered)).allowed).toBe(true);
        expect((await take(limiter, lowered)).allowed).toBe(true);
        expect((await take(limiter, lowered)).allowed).toBe(false);
      }));
  });
}
