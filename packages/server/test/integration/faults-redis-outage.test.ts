// The Redis response cache going down and coming back under load (a proxy cut in front of the
// shared Redis): every request is answered, with the right values, while Redis is down; the
// cache is named degraded (readiness body, sibyl_component_degraded) and recovers by itself.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { createTestServer, linearClassifierExpected, linearClassifierModel, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../../src/testing/index.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const IRIS = { weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]], bias: [0.5, 0, -0.5] };
let proxy: FaultProxy;
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  proxy = await startFaultProxy({ host: REDIS.hostname, port: Number(REDIS.port || 6379) });
  repo = await makeTempDir('sibyl-redis-outage-');
  await writeModelRepository(repo, { iris: { versions: { 1: linearClassifierModel(IRIS).bytes }, config: 'responseCache: { ttlMs: 60000 }\n' } });
  server = await createTestServer(repo, {
    responseCache: { backend: 'redis', maxEntries: 1000, maxBytes: 1 << 20, ttlMs: 60_000, redisUrl: `redis://127.0.0.1:${proxy.port}`, redisKeyPrefix: `sibyl-fault-${randomUUID()}:`, redisTimeoutMs: 200 },
  });
  // Fails here, loudly, when there is no Redis behind the proxy.
  await vi.waitFor(async () => expect((await load(4)).hits).toBeGreaterThan(0), { timeout: 10_000, interval: 100 });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await proxy?.close();
  await removeDir(repo);
});

const row = (i: number) => [i % 4, (i * 7) % 3, 1, 0.5];

/** `n` concurrent requests over 8 distinct inputs; checks every answer; counts cache hits. */
async function load(n: number): Promise<{ hits: number }> {
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      server.http.inject({ method: 'POST', url: '/v2/models/iris/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: row(i % 8) }] } }),
    ),
  );
  let hits = 0;
  answers.forEach((res, i) => {
    expect(res.statusCode).toBe(200);
    const body = res.json();
    if (body.parameters?.sibyl_cache === 'hit') hits++;
    const expected = linearClassifierExpected(IRIS.weights, IRIS.bias, [row(i % 8)]).logits[0]!;
    (body.outputs.find((o: { name: string }) => o.name === 'logits').data as number[]).forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 4));
  });
  return { hits };
}

async function cacheDegraded(): Promise<{ metric: number; body: { ready: boolean; degraded?: { component: string; reason: string }[] } }> {
  const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
  const ready = await server.http.inject({ method: 'GET', url: '/v2/health/ready' });
  expect(ready.statusCode).toBe(200);
  return { metric: sampleValue(metrics, 'sibyl_component_degraded', { component: 'response_cache' })!, body: ready.json() };
}

it('answers every request right while Redis is down, says response_cache is degraded, recovers when it returns', async () => {
  expect(await cacheDegraded()).toEqual({ metric: 0, body: { ready: true } });
  proxy.cut();
  try {
    // Under load while down: all answered by the model, none from the cache.
    for (let round = 0; round < 5; round++) expect((await load(40)).hits).toBe(0);
    const down = await cacheDegraded();
    expect(down.metric).toBe(1);
    expect(down.body.degraded).toEqual([expect.objectContaining({ component: 'response_cache', reason: expect.stringMatching(/Redis/) })]);
  } finally {
    proxy.restore();
  }
  // ioredis reconnects by itself; the next command that works recovers the component.
  await vi.waitFor(async () => expect((await load(16)).hits).toBeGreaterThan(0), { timeout: 20_000, interval: 200 });
  expect(await cacheDegraded()).toEqual({ metric: 0, body: { ready: true } });
}, 60_000);

it('a stalled Redis (bytes stop, nothing resets) costs misses within redisTimeoutMs, never a failed request, and recovers', async () => {
  proxy.stall();
  try {
    for (let round = 0; round < 3; round++) expect((await load(20)).hits).toBe(0);
    const down = await cacheDegraded();
    expect(down.metric).toBe(1);
    expect(down.body.degraded).toEqual([expect.objectContaining({ component: 'response_cache', reason: expect.stringMatching(/timed out|Redis/i) })]);
  } finally {
    proxy.restore();
  }
  await vi.waitFor(async () => expect((await load(16)).hits).toBeGreaterThan(0), { timeout: 20_000, interval: 200 });
  expect(await cacheDegraded()).toEqual({ metric: 0, body: { ready: true } });
}, 60_000);
