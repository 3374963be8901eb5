// The Redis response cache against a real Redis: the adapter contract, and two `sibyl serve`
// processes sharing their hits. REDIS_URL overrides the default redis://127.0.0.1:6379; the
// test fails, never skips, without a Redis.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseCache } from '../../src/cache/redis-cache.ts';
import { linearClassifierModel, makeTempDir, removeDir, spawnSibyl, writeModelRepository, type SpawnedServer } from '../../src/testing/index.ts';
import { responseCacheContract } from '../../src/testing/response-cache-contract.ts';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `sibyl-test-${randomUUID()}:`;
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

responseCacheContract('redis', {
  open: async () => {
    const cache = RedisResponseCache.create({ url: URL, keyPrefix: `${PREFIX}contract:`, timeoutMs: 1000, log: pino({ level: 'silent' }) });
    await cache.ready();
    return cache;
  },
  advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

describe('two servers sharing a Redis response cache', () => {
  let repo: string;
  const servers: SpawnedServer[] = [];

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-redis-cache-');
    await writeModelRepository(repo, {
      m: { versions: { 1: linearClassifierModel({ weights: [[1, 0], [0, 1]], bias: [0.5, -0.5] }).bytes }, config: 'responseCache: { ttlMs: 60000 }\n' },
    });
  });

  afterAll(async () => {
    for (const s of servers) expect(await s.stop()).toBe(0);
    await removeDir(repo);
  });

  it('a request answered by one is a hit on the other', async () => {
    const args = ['--model-repository', repo, '--state-store', ':memory:', '--response-cache', 'redis', '--response-cache-redis-url', URL];
    const env = { SIBYL_RESPONSE_CACHE_REDIS_KEY_PREFIX: PREFIX };
    servers.push(await spawnSibyl(args, { env }), await spawnSibyl(args, { env }));
    const [a, b] = servers as [SpawnedServer, SpawnedServer];
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [3, 4] }] });
    const ask = async (s: SpawnedServer): Promise<{ parameters?: { sibyl_cache?: string }; outputs: { name: string; data: number[] }[] }> =>
      (await fetch(`${s.url}/v2/models/m/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).json() as never;
    const first = await ask(a);
    expect(first.parameters?.sibyl_cache).toBe('miss');
    const second = await ask(b);
    expect(second.parameters?.sibyl_cache).toBe('hit');
    expect(second.outputs).toEqual(first.outputs);
    expect(second.outputs.find((o) => o.name === 'logits')!.data).toEqual([3.5, 3.5]);
    const stats = (await (await fetch(`${b.url}/v2/models/m/stats`)).json()) as { model_stats: { inference_count: number; inference_stats: { cache_hit: { count: number } } }[] };
    expect(stats.model_stats[0]).toMatchObject({ inference_count: 0, inference_stats: { cache_hit: { count: 1 } } });
    expect((await admin.keys(`${PREFIX}m:1:*`)).length).toBe(1);
  }, 120_000);
});
