// The response cache: answers of a model version kept by the exact inputs and requested outputs
// that produced them. The key names the model, the version and the files it was loaded from, so
// an entry can only ever answer for the version that computed it. The embedded default is an
// in-memory LRU (cache/memory-cache.ts); Redis (cache/redis-cache.ts) shares entries between
// replicas. The interface lives here, with the inference service that uses it.
import { createHash } from 'node:crypto';
import type { Tensor } from '@sibyl/protocol';

/**
 * Implementations never throw into a request: a cache that cannot answer is a miss, one that
 * cannot store forgets. Stored tensors are the cache's (callers give it copies); returned tensors
 * must not be changed by the caller.
 */
export interface ResponseCache {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<Tensor[] | undefined>;
  set(key: string, outputs: readonly Tensor[], ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The key of a request to one loaded version: `generation` identifies the version's files and
 * config; inputs are taken in name order (the order a client lists them in does not matter),
 * each with its datatype, shape and bytes; then the outputs asked for, and the request
 * parameters that change the answer (classification per output).
 */
export function responseCacheKey(model: string, version: number, generation: string, inputs: readonly Tensor[], outputs: readonly { name: string; classification?: number }[]): string {
  const hash = createHash('sha256');
  const ordered = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of ordered) {
    hash.update(`${t.name}\u0000${t.datatype}\u0000${t.shape.join(',')}\u0000`);
    if (Array.isArray(t.data)) for (const b of t.data) hash.update(`${b.length}:`).update(b);
    else hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  for (const o of outputs) hash.update(`\u0001${o.name}\u0000${o.classification ?? ''}`);
  return `${model}:${version}:${generation}:${hash.digest('base64url')}`;
}

/** Bytes an entry holds (its tensors' data), for the memory cache's limit. */
export function outputBytes(outputs: readonly Tensor[]): number {
  let n = 0;
  for (const t of outputs) n += Array.isArray(t.data) ? t.data.reduce((s, b) => s + b.length + 8, 0) : t.data.byteLength;
  return n;
}
