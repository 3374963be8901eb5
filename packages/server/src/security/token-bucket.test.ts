import { describe, expect, it } from 'vitest';
import { fullAfterMs, refill, retryAfterSeconds, takeTokens, type BucketLimit, type BucketState } from './token-bucket.ts';

const TEN: BucketLimit = { ratePerSecond: 10, burst: 5 };
const SLOW: BucketLimit = { ratePerSecond: 0.5, burst: 1 };

describe('refill', () => {
  it.each<[string, BucketState | undefined, BucketLimit, number, BucketState]>([
    ['a bucket never seen is full', undefined, TEN, 1000, { tokens: 5, updatedMs: 1000 }],
    ['adds rate × elapsed', { tokens: 0, updatedMs: 1000 }, TEN, 1300, { tokens: 3, updatedMs: 1300 }],
    ['fractional tokens', { tokens: 0, updatedMs: 0 }, TEN, 25, { tokens: 0.25, updatedMs: 25 }],
    ['never above burst', { tokens: 4, updatedMs: 0 }, TEN, 10_000, { tokens: 5, updatedMs: 10_000 }],
    ['a clock that moved back refills nothing and keeps the later time', { tokens: 1, updatedMs: 2000 }, TEN, 1500, { tokens: 1, updatedMs: 2000 }],
    ['a burst lowered since clamps what the bucket held', { tokens: 9, updatedMs: 2000 }, TEN, 2000, { tokens: 5, updatedMs: 2000 }],
    ['slow rates: half a token per second', { tokens: 0, updatedMs: 0 }, SLOW, 1000, { tokens: 0.5, updatedMs: 1000 }],
  ])('%s', (_, state, limit, now, expected) => {
    expect(refill(state, limit, now)).toEqual(expected);
  });
});

describe('takeTokens', () => {
  it('lets a burst through, then refuses until a token refills', () => {
    let state: BucketState | undefined;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      const d = takeTokens([{ state, limit: TEN }], 0);
      outcomes.push(d.allowed);
      state = d.states[0];
    }
    expect(outcomes).toEqual([true, true, true, true, true, false, false]);
    expect(takeTokens([{ state, limit: TEN }], 99).allowed).toBe(false);
    expect(takeTokens([{ state, limit: TEN }], 100)).toEqual({ allowed: true, states: [{ tokens: 0, updatedMs: 100 }], retryAfterMs: 0, refusedBy: -1 });
  });

  it.each<[string, { state: BucketState | undefined; limit: BucketLimit }[], number, { allowed: boolean; retryAfterMs: number; refusedBy: number }]>([
    ['an empty bucket waits 1/rate', [{ state: { tokens: 0, updatedMs: 0 }, limit: TEN }], 0, { allowed: false, retryAfterMs: 100, refusedBy: 0 }],
    ['a part-filled bucket waits for the rest', [{ state: { tokens: 0.75, updatedMs: 0 }, limit: TEN }], 0, { allowed: false, retryAfterMs: 25, refusedBy: 0 }],
    ['the refill counts before the wait', [{ state: { tokens: 0, updatedMs: 0 }, limit: SLOW }], 1000, { allowed: false, retryAfterMs: 1000, refusedBy: 0 }],
    [
      'the longest wait of several refusing buckets, and its index',
      [
        { state: { tokens: 0, updatedMs: 0 }, limit: TEN },
        { state: { tokens: 0, updatedMs: 0 }, limit: SLOW },
      ],
      0,
      { allowed: false, retryAfterMs: 2000, refusedBy: 1 },
    ],
    ['no bucket: allowed', [], 0, { allowed: true, retryAfterMs: 0, refusedBy: -1 }],
  ])('%s', (_, buckets, now, expected) => {
    const d = takeTokens(buckets, now);
    expect({ allowed: d.allowed, retryAfterMs: d.retryAfterMs, refusedBy: d.refusedBy }).toEqual(expected);
  });

  it('takes from all buckets or from none', () => {
    const full = { state: undefined, limit: TEN };
    const empty = { state: { tokens: 0, updatedMs: 0 }, limit: SLOW };
    const refused = takeTokens([full, empty], 0);
    expect(refused.allowed).toBe(false);
    expect(refused.states).toEqual([{ tokens: 5, updatedMs: 0 }, { tokens: 0, updatedMs: 0 }]);
    const allowed = takeTokens([full, { state: undefined, limit: SLOW }], 0);
    expect(allowed.states).toEqual([{ tokens: 4, updatedMs: 0 }, { tokens: 0, updatedMs: 0 }]);
  });

  it('takes a cost above one', () => {
    expect(takeTokens([{ state: undefined, limit: TEN }], 0, 3).states).toEqual([{ tokens: 2, updatedMs: 0 }]);
    expect(takeTokens([{ state: { tokens: 2, updatedMs: 0 }, limit: TEN }], 0, 3)).toMatchObject({ allowed: false, retryAfterMs: 100 });
  });
});

describe('fullAfterMs and retryAfterSeconds', () => {
  it.each([
    [{ tokens: 0, updatedMs: 0 }, TEN, 500],
    [{ tokens: 4.5, updatedMs: 0 }, TEN, 50],
    [{ tokens: 5, updatedMs: 0 }, TEN, 0],
    [{ tokens: 0, updatedMs: 0 }, SLOW, 2000],
  ])('a bucket at %j with %j is full after %d ms', (state, limit, ms) => {
    expect(fullAfterMs(state, limit)).toBe(ms);
  });

  it.each([
    [0.1, 1],
    [0, 1],
    [999, 1],
    [1000, 1],
    [1001, 2],
    [2000, 2],
    [59_500, 60],
  ])('%d ms → Retry-After %d s', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
