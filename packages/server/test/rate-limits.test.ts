// Rate limits at the serving core's one door, seen from every entry: 429 RATE_LIMITED with
// Retry-After over V2 REST and TF Serving REST, RESOURCE_EXHAUSTED with retry-after metadata over
// gRPC, the embedding API, per-principal buckets (contexts built with a principal, as the
// authentication of each frontend will), per-target buckets, batch contexts exempt, and the
// sibyl_rate_limited_total metric. Time is a manual clock: buckets refill when the test says.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_LOADER_OPTIONS, type InferRequest } from '@sibyl/protocol';
import { createSibyl } from '../src/embedded.ts';
import type { SibylServer } from '../src/server.ts';
import { ManualClock, ScriptedRuntime, createTestServer, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../src/testing/index.ts';

let repo: string;
let server: SibylServer;
let clock: ManualClock;
let grpcClient: grpc.Client;

const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] };
const v2 = (model: string) => server.http.inject({ method: 'POST', url: `/v2/models/${model}/infer`, headers: { 'content-type': 'application/json' }, payload: body });
const tfserving = (model: string) => server.http.inject({ method: 'POST', url: `/v1/models/${model}:predict`, headers: { 'content-type': 'application/json' }, payload: { instances: [[1]] } });
const request = (): InferRequest => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: new Float32Array([1]) }] });
const asPrincipal = (id: string | undefined, entry: 'http' | 'grpc' | 'batch' = 'http') => server.core.newContext(entry, id === undefined ? {} : { principal: { id, scopes: ['infer:*'] } });
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: { reason?: string }) => err.reason ?? String(err));

beforeAll(async () => {
  repo = await makeTempDir('sibyl-rate-limits-');
  await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } }, n: { versions: { 1: 'add 2' } }, open: { versions: { 1: 'add 3' } } });
  clock = new ManualClock(1000);
  server = await createTestServer(repo, {
    runtime: new ScriptedRuntime(),
    clock,
    endpoints: { front: { target: { model: 'open' } } } as never,
    rateLimits: {
      backend: 'memory',
      redisUrl: 'redis://127.0.0.1:6379',
      redisKeyPrefix: 'x:',
      redisTimeoutMs: 50,
      perPrincipal: { default: { ratePerSecond: 1, burst: 3 }, principals: { vip: { ratePerSecond: 100, burst: 100 } } },
      perTarget: { targets: { m: { ratePerSecond: 0.5, burst: 2 }, n: { ratePerSecond: 1, burst: 2 }, front: { ratePerSecond: 1, burst: 1 } } },
    },
  });
  const port = await server.grpc.listen('127.0.0.1', 0);
  const protoDir = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
  const definition = grpc.loadPackageDefinition(loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [protoDir] }));
  const Inference = (definition.inference as Record<string, grpc.ServiceClientConstructor>).GRPCInferenceService!;
  grpcClient = new Inference(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  grpcClient?.close();
  await server?.shutdown();
  await removeDir(repo);
});

describe('rate limits over REST', () => {
  it("a target's bucket: its burst passes, the next gets 429 RATE_LIMITED with Retry-After; other models are not affected; it refills with time", async () => {
    // Anonymous callers (no authentication) share one bucket of burst 3: refill it between steps.
    expect((await v2('m')).statusCode).toBe(200);
    expect((await v2('m')).statusCode).toBe(200);
    const refused = await v2('m');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json()).toEqual({ error: expect.stringContaining("'m' is over its rate limit for all callers: 0.5 requests/s (burst 2)"), code: 'RESOURCE_EXHAUSTED', reason: 'RATE_LIMITED' });
    expect((await v2('n')).statusCode).toBe(200);
    clock.advance(2000);
    expect((await v2('m')).statusCode).toBe(200);
  });

  it('TF Serving REST shares the same buckets (one door): 429 with Retry-After', async () => {
    clock.advance(10_000);
    expect((await v2('n')).statusCode).toBe(200);
    expect((await tfserving('n')).statusCode).toBe(200);
    const refused = await tfserving('n');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ reason: 'RATE_LIMITED' });
  });

  it('an endpoint is limited by its own name; the model behind it is not counted again', async () => {
    clock.advance(10_000);
    expect((await v2('front')).statusCode).toBe(200);
    expect((await v2('front')).statusCode).toBe(429);
    expect((await v2('open')).statusCode).toBe(200);
  });

  it('anonymous callers share one principal bucket', async () => {
    clock.advance(10_000);
    const statuses = [];
    for (const model of ['open', 'open', 'open', 'open']) statuses.push((await v2(model)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('rate limits over gRPC', () => {
  it('refuses with RESOURCE_EXHAUSTED, the reason and retry-after in the trailing metadata', async () => {
    clock.advance(10_000);
    const infer = (): Promise<grpc.ServiceError | null> =>
      new Promise((resolve) =>
        (grpcClient as unknown as { ModelInfer: (r: unknown, cb: (e: grpc.ServiceError | null) => void) => void }).ModelInfer(
          { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], contents: { fp32_contents: [1] } }] },
          (err) => resolve(err),
        ),
      );
    expect(await infer()).toBeNull();
    expect(await infer()).toBeNull();
    const err = await infer();
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err?.details).toMatch(/'m' is over its rate limit/);
    expect(err?.metadata.get('sibyl-reason')).toEqual(['RATE_LIMITED']);
    expect(err?.metadata.get('retry-after')).toEqual(['2']);
  });
});

describe('per-principal buckets', () => {
  it('each principal has its own bucket; a listed principal its own limit; a refusal of one costs nothing to others', async () => {
    clock.advance(10_000);
    const core = server.core;
    const run = async (id: string | undefined, times: number, model = 'open'): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < times; i++) out.push(await outcome(core.infer(model, {}, request(), asPrincipal(id))));
      return out;
    };
    expect(await run('alice', 4)).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);
    expect(await run('bob', 3)).toEqual(['ok', 'ok', 'ok']);
    expect(await run('vip', 20)).toEqual(Array(20).fill('ok'));
    expect(await run(undefined, 3)).toEqual(['ok', 'ok', 'ok']);
    const refused = await core.infer('open', {}, request(), asPrincipal('alice')).catch((err: unknown) => err);
    expect(refused).toMatchObject({ reason: 'RATE_LIMITED', details: { retryAfterSeconds: 1, limit: 'principal' }, message: expect.stringMatching(/^'alice' is over its rate limit: 1 requests\/s \(burst 3\)/) });
    clock.advance(1000);
    expect(await run('alice', 2)).toEqual(['ok', 'RATE_LIMITED']);
  });

  it("the principal's bucket and the target's: a request takes from both, and is refused by either", async () => {
    clock.advance(10_000);
    const core = server.core;
    // n: burst 2 for everyone. alice takes both; bob is then refused by the target, not by his own bucket.
    expect(await outcome(core.infer('n', {}, request(), asPrincipal('alice')))).toBe('ok');
    expect(await outcome(core.infer('n', {}, request(), asPrincipal('alice')))).toBe('ok');
    const byTarget = await core.infer('n', {}, request(), asPrincipal('bob')).catch((err: unknown) => err);
    expect(byTarget).toMatchObject({ reason: 'RATE_LIMITED', details: { limit: 'target' } });
    // bob's bucket is untouched by the refusal: three more requests elsewhere pass.
    for (let i = 0; i < 3; i++) expect(await outcome(core.infer('open', {}, request(), asPrincipal('bob')))).toBe('ok');
  });

  it('batch contexts are exempt (jobs pace themselves and call the router directly)', async () => {
    clock.advance(10_000);
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await outcome(server.core.infer('m', {}, request(), asPrincipal('alice', 'batch'))));
    expect(outcomes).toEqual(Array(5).fill('ok'));
  });
});

describe('the metric', () => {
  it('counts refusals by principal, target and the bucket that refused; unknown names are no label values', async () => {
    clock.advance(10_000);
    const before = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
    const count = (families: typeof before, labels: Record<string, string>) => sampleValue(families, 'sibyl_rate_limited_total', labels) ?? 0;
    const core = server.core;
    for (let i = 0; i < 4; i++) await outcome(core.infer('open', {}, request(), asPrincipal('carol')));
    for (let i = 0; i < 3; i++) await outcome(core.infer('m', {}, request(), asPrincipal('vip')));
    for (let i = 0; i < 4; i++) await outcome(core.infer('no-such-model', {}, request(), asPrincipal('dave')));
    const after = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
    expect(count(after, { principal: 'carol', target: 'open', limit: 'principal' }) - count(before, { principal: 'carol', target: 'open', limit: 'principal' })).toBe(1);
    expect(count(after, { principal: 'vip', target: 'm', limit: 'target' }) - count(before, { principal: 'vip', target: 'm', limit: 'target' })).toBe(1);
    expect(count(after, { principal: 'dave', target: '', limit: 'principal' })).toBe(1);
    expect([...(after.get('sibyl_rate_limited_total')?.samples ?? [])].some((s) => s.labels.target === 'no-such-model')).toBe(false);
    // Refusals are failed inference requests too.
    expect(sampleValue(after, 'sibyl_inference_requests_total', { model: 'open', version: '1', outcome: 'error', code: 'RESOURCE_EXHAUSTED', reason: 'RATE_LIMITED' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'sibyl_component_degraded', { component: 'rate_limiter' })).toBe(0);
  });
});

describe('the embedding API', () => {
  it('applies the rate limits of its settings, to the principal the application names', async () => {
    const sibyl = await createSibyl({
      modelRepository: repo,
      runtime: new ScriptedRuntime(),
      clock: new ManualClock(0),
      config: { rateLimits: { perTarget: { default: { ratePerSecond: 1, burst: 1 } }, perPrincipal: { principals: { eve: { ratePerSecond: 1, burst: 1 } } } } },
    });
    try {
      expect(await outcome(sibyl.infer('m', request()))).toBe('ok');
      expect(await outcome(sibyl.infer('m', request()))).toBe('RATE_LIMITED');
      expect(await outcome(sibyl.infer('n', request(), { principal: { id: 'eve', scopes: ['infer:*'] } }))).toBe('ok');
      expect(await sibyl.infer('open', request(), { principal: { id: 'eve', scopes: ['infer:*'] } }).catch((err: unknown) => err)).toMatchObject({ reason: 'RATE_LIMITED', details: { limit: 'principal' } });
      expect(await outcome(sibyl.infer('open', request(), { principal: { id: 'frank', scopes: ['infer:*'] } }))).toBe('ok');
    } finally {
      await sibyl.close();
    }
  });
});
