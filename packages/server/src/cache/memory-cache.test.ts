import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import { ManualClock } from '../testing/manual-clock.ts';
import { responseCacheContract } from '../testing/response-cache-contract.ts';
import { responseCacheKey } from '../routing/response-cache.ts';
import { MemoryResponseCache } from './memory-cache.ts';

const clock = new ManualClock();
responseCacheContract('memory', { open: async () => new MemoryResponseCache({ maxEntries: 100, maxBytes: 1 << 20, clock }), advance: async (ms) => clock.advance(ms) });

const row = (v: number): Tensor[] => [{ name: 'y', datatype: 'FP32', shape: [1, 250], data: new Float32Array(250).fill(v) }]; // 1000 bytes

describe('memory response cache', () => {
  it('evicts the least recently used beyond its entry limit', async () => {
    const cache = new MemoryResponseCache({ maxEntries: 2, maxBytes: 1 << 20, clock: new ManualClock() });
    await cache.set('a', row(1), 1000);
    await cache.set('b', row(2), 1000);
    await cache.get('a'); // a is now more recent than b
    await cache.set('c', row(3), 1000);
    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')].map((x) => x !== undefined)).toEqual([true, false, true]);
  });

  it('stays within its byte limit, and skips an entry larger than the limit', async () => {
    const cache = new MemoryResponseCache({ maxEntries: 100, maxBytes: 2500, clock: new ManualClock() });
    for (const k of ['a', 'b', 'c']) await cache.set(k, row(1), 1000);
    expect(cache.size).toBe(2);
    expect(cache.sizeBytes).toBeLessThanOrEqual(2500);
    await cache.set('huge', [{ name: 'y', datatype: 'FP32', shape: [1, 1000], data: new Float32Array(1000) }], 1000);
    expect(await cache.get('huge')).toBeUndefined();
  });
});

describe('response cache keys', () => {
  const x = (name: string, values: number[]): Tensor => ({ name, datatype: 'FP32', shape: [1, values.length], data: Float32Array.from(values) });
  it('are equal for equal requests whatever the order of inputs, and differ otherwise', () => {
    const base = responseCacheKey('m', 1, 'g', [x('a', [1, 2]), x('b', [3])], [{ name: 'y' }]);
    expect(responseCacheKey('m', 1, 'g', [x('b', [3]), x('a', [1, 2])], [{ name: 'y' }])).toBe(base);
    expect(responseCacheKey('m', 1, 'g', [x('a', [1, 2.5]), x('b', [3])], [{ name: 'y' }])).not.toBe(base);
    expect(responseCacheKey('m', 2, 'g', [x('a', [1, 2]), x('b', [3])], [{ name: 'y' }])).not.toBe(base);
    expect(responseCacheKey('m', 1, 'h', [x('a', [1, 2]), x('b', [3])], [{ name: 'y' }])).not.toBe(base);
    expect(responseCacheKey('m', 1, 'g', [x('a', [1, 2]), x('b', [3])], [{ name: 'y', classification: 2 }])).not.toBe(base);
    expect(responseCacheKey('m', 1, 'g', [{ ...x('a', [1, 2]), shape: [2, 1] }, x('b', [3])], [{ name: 'y' }])).not.toBe(base);
    expect(base.startsWith('m:1:g:')).toBe(true);
  });
});
