// The shared response cache: entries in Redis, so replicas answer each other's repeated
// requests. Values are one buffer: a 4-byte length, a JSON header of the tensors, then their
// bytes. Redis expires entries (PX); its own memory policy bounds the total. A Redis that is
// slow or down makes misses, never failed requests: commands time out after timeoutMs and are not
// queued while disconnected.
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ComponentHealth } from '../core/component-health.ts';
import { tensorDataFromBytes, tensorDataToBytes, type Tensor } from '@sibyl/protocol';
import type { ResponseCache } from '../routing/response-cache.ts';

interface Header {
  name: string;
  datatype: Tensor['datatype'];
  shape: number[];
  bytes: number;
}

export function encodeEntry(outputs: readonly Tensor[]): Buffer {
  const parts = outputs.map((t) => tensorDataToBytes(t.datatype, t.data));
  const header = Buffer.from(JSON.stringify(outputs.map((t, i): Header => ({ name: t.name, datatype: t.datatype, shape: t.shape, bytes: parts[i]!.byteLength }))));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(header.length);
  return Buffer.concat([prefix, header, ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))]);
}

export function decodeEntry(value: Buffer): Tensor[] {
  const headerLength = value.readUInt32LE(0);
  const headers = JSON.parse(value.subarray(4, 4 + headerLength).toString('utf8')) as Header[];
  let offset = 4 + headerLength;
  return headers.map((h) => {
    const bytes = new Uint8Array(value.subarray(offset, offset + h.bytes)).slice(); // aligned copy
    offset += h.bytes;
    return { name: h.name, datatype: h.datatype, shape: h.shape, data: tensorDataFromBytes(h.datatype, bytes, h.shape) };
  });
}

export class RedisResponseCache implements ResponseCache {
  readonly kind = 'redis';
  private warnedAtMs = 0;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly health: ComponentHealth | undefined,
  ) {}

  /**
   * Connects (lazily: the first command connects). While Redis fails, the `response_cache`
   * component is degraded (see ComponentHealth); it recovers on the next command that works.
   * @throws Error when the URL is not a Redis URL.
   */
  static create(options: { url: string; keyPrefix: string; timeoutMs: number; log: Logger; health?: ComponentHealth }): RedisResponseCache {
    const redis = new Redis(options.url, { lazyConnect: false, enableOfflineQueue: false, commandTimeout: options.timeoutMs, maxRetriesPerRequest: 1 });
    redis.on('error', (err: Error) => {
      options.health?.failed('response_cache', `Redis ${options.url}: ${err.message}`);
      const now = Date.now();
      if (now - cache.warnedAtMs > 10_000) options.log.warn(`response cache: Redis ${options.url}: ${err.message}; requests are answered without the cache meanwhile`);
      cache.warnedAtMs = now;
    });
    redis.on('close', () => {
      if (!cache.closed) options.health?.failed('response_cache', `Redis ${options.url}: the connection closed`);
    });
    const cache = new RedisResponseCache(redis, options.keyPrefix, options.log, options.health);
    return cache;
  }

  /** Waits until connected (for tests and start-up checks). */
  async ready(): Promise<void> {
    if (this.redis.status !== 'ready') await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('end', () => reject(new Error('the Redis connection ended')));
    });
  }

  async get(key: string): Promise<Tensor[] | undefined> {
    try {
      const value = await this.redis.getBuffer(this.prefix + key);
      this.health?.succeeded('response_cache');
      return value === null ? undefined : decodeEntry(value);
    } catch (err) {
      this.note(err);
      return undefined;
    }
  }

  async set(key: string, outputs: readonly Tensor[], ttlMs: number): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, encodeEntry(outputs), 'PX', Math.max(1, Math.round(ttlMs)));
      this.health?.succeeded('response_cache');
    } catch (err) {
      this.note(err);
    }
  }

  private note(err: unknown): void {
    this.health?.failed('response_cache', `Redis command failed: ${(err as Error).message}`);
    const now = Date.now();
    if (now - this.warnedAtMs > 10_000) this.log.warn(`response cache: Redis command failed: ${(err as Error).message}; answered without the cache`);
    this.warnedAtMs = now;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.redis.disconnect();
  }
}
