// The contract every ResponseCache adapter passes (DESIGN.md, Conventions 3): round trips of
// every kind of tensor, misses, overwrites and expiry. `advance` moves the adapter's time on.
import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import type { ResponseCache } from '../routing/response-cache.ts';

const text = new TextEncoder();

export function sampleOutputs(): Tensor[] {
  return [
    { name: 'probabilities', datatype: 'FP32', shape: [2, 3], data: Float32Array.from([0.1, 0.2, 0.7, 0.5, 0.25, 0.25]) },
    { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([2n, -9007199254740993n]) },
    { name: 'names', datatype: 'BYTES', shape: [2], data: [text.encode('setosa'), text.encode('')] },
    { name: 'flags', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
  ];
}

const plain = (outputs: readonly Tensor[]): unknown =>
  outputs.map((t) => ({ ...t, data: Array.isArray(t.data) ? t.data.map((b) => [...b]) : Array.from(t.data as ArrayLike<number | bigint>, String) }));

export function responseCacheContract(name: string, adapter: { open: () => Promise<ResponseCache>; advance: (ms: number) => Promise<void> }): void {
  describe(`ResponseCache contract: ${name}`, () => {
    it('answers what was stored, exactly, for every datatype; a miss is undefined', async () => {
      const cache = await adapter.open();
      try {
        const key = `m:1:g:${Math.random()}`;
        expect(await cache.get(key)).toBeUndefined();
        await cache.set(key, sampleOutputs(), 60_000);
        const got = await cache.get(key);
        expect(plain(got!)).toEqual(plain(sampleOutputs()));
        expect(got![0]!.data).toBeInstanceOf(Float32Array);
        expect(got![1]!.data).toBeInstanceOf(BigInt64Array);
      } finally {
        await cache.close();
      }
    });

    it('overwrites a key, and forgets an entry after its TTL', async () => {
      const cache = await adapter.open();
      try {
        const key = `m:1:g:${Math.random()}`;
        await cache.set(key, sampleOutputs().slice(0, 1), 60_000);
        await cache.set(key, sampleOutputs().slice(1, 2), 60_000);
        expect((await cache.get(key))!.map((t) => t.name)).toEqual(['label']);
        const short = `${key}:short`;
        await cache.set(short, sampleOutputs(), 50);
        expect(await cache.get(short)).toBeDefined();
        await adapter.advance(120);
        expect(await cache.get(short)).toBeUndefined();
        expect(await cache.get(key)).toBeDefined();
      } finally {
        await cache.close();
      }
    });

    it('keeps its own copy: changing the stored tensors later changes nothing', async () => {
      const cache = await adapter.open();
      try {
        const key = `m:1:g:${Math.random()}`;
        const outputs = sampleOutputs();
        await cache.set(key, outputs, 60_000);
        (outputs[0]!.data as Float32Array)[0] = 99;
        expect(((await cache.get(key))![0]!.data as Float32Array)[0]).toBeCloseTo(0.1, 6);
      } finally {
        await cache.close();
      }
    });
  });
}
