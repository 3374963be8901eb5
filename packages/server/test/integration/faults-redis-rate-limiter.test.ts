// Shared rate limits when their Redis goes away (a proxy cut or stalled in front of the real
// Redis): requests are let through — rate limits fail open — the rate_limiter component is named
// degraded (readiness body, sibyl_component_degraded), and the limits apply again by themselves
// once Redis is back.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../../src/testing/index.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
let proxy: FaultProxy;
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  proxy = await startFaultProxy({ host: REDIS.hostname, port: Number(REDIS.port || 6379) });
  repo = await makeTempDir('sibyl-redis-rate-limits-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
  server = await createTestServer(repo, {
    runtime: new ScriptedRuntime(),
    rateLimits: {
      backend: 'redis',
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      redisKeyPrefix: `sibyl-fault-${randomUUID()}:`,
      redisTimeoutMs: 200,
      // A bucket that refills slowly enough (1 per 100 s) for a test to see it empty.
      perTarget: { targets: { m: { ratePerSecond: 0.01, burst: 3 } } },
    },
  });
  // Fails here, loudly, when there is no Redis behind the proxy: the limit must bite.
  await vi.waitFor(async () => expect(await statuses(5)).toContain(429), { timeout: 10_000, interval: 100 });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await proxy?.close();
  await removeDir(repo);
});

async function statuses(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [i] }] } });
    out.push(res.statusCode);
  }
  return out;
}

async function limiterHealth(): Promise<{ metric: number; degraded: { component: string; reason: string }[] | undefined }> {
  const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
  const ready = await server.http.inject({ method: 'GET', url: '/v2/health/ready' });
  expect(ready.statusCode).toBe(200);
  return { metric: sampleValue(metrics, 'sibyl_component_degraded', { component: 'rate_limiter' })!, degraded: ready.json().degraded };
}

it('lets every request through while Redis is down, says rate_limiter is degraded, and limits again once it is back', async () => {
  expect(await statuses(3)).toEqual([429, 429, 429]);
  expect((await limiterHealth()).metric).toBe(0);
  proxy.cut();
  try {
    expect(await statuses(20)).toEqual(Array(20).fill(200));
    const down = await limiterHealth();
    expect(down.metric).toBe(1);
    expect(down.degraded).toEqual([expect.objectContaining({ component: 'rate_limiter', reason: expect.stringMatching(/Redis/) })]);
  } finally {
    proxy.restore();
  }
  // ioredis reconnects by itself; the first decision Redis makes recovers the component.
  await vi.waitFor(async () => expect(await statuses(1)).toEqual([429]), { timeout: 20_000, interval: 200 });
  expect(await limiterHealth()).toEqual({ metric: 0, degraded: undefined });
}, 60_000);

it('a stalled Redis (bytes stop, nothing resets) costs at most a bounded wait, never a refused or failed request', async () => {
  proxy.stall();
  try {
    expect(await statuses(10)).toEqual(Array(10).fill(200));
    expect((await limiterHealth()).metric).toBe(1);
  } finally {
    proxy.restore();
  }
  await vi.waitFor(async () => expect(await statuses(1)).toEqual([429]), { timeout: 20_000, interval: 200 });
  expect((await limiterHealth()).metric).toBe(0);
}, 60_000);
