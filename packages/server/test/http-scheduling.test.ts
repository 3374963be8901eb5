// Scheduling seen through HTTP: statistics, backpressure (429 + Retry-After), deadlines (504),
// priorities, batching of concurrent requests, classification, compressed bodies. Real
// onnxruntime workers; expected values computed independently.
import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import {
  createTestServer,
  linearClassifierExpected,
  linearClassifierModel,
  makeTempDir,
  removeDir,
  slowModel,
  writeModelRepository,
} from '../src/testing/index.ts';

const WEIGHTS = [
  [0.5, -1, 0.25],
  [1.5, 0.5, -0.75],
];
const BIAS = [0.1, -0.2, 0.3];
const SLOW = { size: 2048, depth: 60 };
let repo: string;
let server: SibylServer;

const slowBody = (rows: number, parameters?: Record<string, unknown>) => ({
  ...(parameters === undefined ? {} : { parameters }),
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, SLOW.size], data: new Array(rows * SLOW.size).fill(1) }],
});

function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  return server.http.inject({ method: 'POST', url, payload: payload as string, headers: { 'content-type': 'application/json', ...headers } });
}

beforeAll(async () => {
  repo = await makeTempDir('sibyl-sched-');
  await writeModelRepository(repo, {
    linear: { versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes } },
    // Waits (up to 10 s, the schema's limit) until exactly 4 rows are queued: batching without depending on timing.
    batched: {
      versions: { 1: linearClassifierModel({ weights: WEIGHTS, bias: BIAS }).bytes },
      config: 'dynamicBatching:\n  maxQueueDelayMs: 10000\n  preferredBatchSizes: [4]\n',
    },
    slow: { versions: { 1: slowModel(SLOW).bytes }, config: 'maxQueueSize: 2\nexecutionsPerInstance: 1\ndynamicBatching:\n  enabled: false\n' },
  });
  server = await createTestServer(repo);
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

describe('dynamic batching over HTTP', () => {
  it('concurrent requests run as one execution and each gets its own rows', async () => {
    const rows = [
      [1, 2],
      [3, -1],
      [0.5, 0.25],
      [-2, 4],
    ];
    const answers = await Promise.all(
      rows.map((row, i) => post('/v2/models/batched/infer', { id: `r${i}`, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: row }] })),
    );
    answers.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.id).toBe(`r${i}`);
      const expected = linearClassifierExpected(WEIGHTS, BIAS, [rows[i]!]).probabilities[0]!;
      body.outputs[1].data.forEach((v: number, k: number) => expect(v).toBeCloseTo(expected[k]!, 6));
    });
    const stats = (await server.http.inject({ method: 'GET', url: '/v2/models/batched/stats' })).json();
    const model = stats.model_stats[0];
    expect(model).toMatchObject({ name: 'batched', version: '1', inference_count: 4, execution_count: 1 });
    expect(model.batch_stats.map((b: { batch_size: number; compute_infer: { count: number } }) => [b.batch_size, b.compute_infer.count])).toEqual([[4, 1]]);
    expect(model.inference_stats.success.count).toBe(4);
    expect(model.inference_stats.success.ns).toBeGreaterThan(0);
    expect(model.inference_stats.queue.count).toBe(4);
    expect(model.last_inference).toBeGreaterThan(1.7e12);
  });

  it('statistics for every model, and by version', async () => {
    const all = (await server.http.inject({ method: 'GET', url: '/v2/models/stats' })).json();
    expect(all.model_stats.map((m: { name: string }) => m.name).sort()).toEqual(['batched', 'linear', 'slow']);
    expect((await server.http.inject({ method: 'GET', url: '/v2/models/linear/versions/1/stats' })).statusCode).toBe(200);
    expect((await server.http.inject({ method: 'GET', url: '/v2/models/nope/stats' })).statusCode).toBe(404);
  });
});

describe('backpressure and deadlines', () => {
  it('a full queue answers 429 with Retry-After; the accepted requests all succeed', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => post('/v2/models/slow/infer', slowBody(16))));
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429]); // one running, two queued
    const refused = answers.find((a) => a.statusCode === 429)!;
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: 'QUEUE_FULL' });
    expect(refused.json().error).toMatch(/has 2 requests queued, its limit \(maxQueueSize\)/);
  });

  it('a request whose timeout passes while queued gets 504 and never runs', async () => {
    const before = server.models.resolve('slow').statistics.executionCount;
    const [busy, late] = await Promise.all([post('/v2/models/slow/infer', slowBody(64)), post('/v2/models/slow/infer', slowBody(1, { timeout: 1000 }))]);
    expect(busy.statusCode).toBe(200);
    expect(late.statusCode).toBe(504);
    expect(late.json()).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'DEADLINE_EXCEEDED' });
    expect(server.models.resolve('slow').statistics.executionCount).toBe(before + 1);
  });

  it.each([
    [{ timeout: -5 }, /parameter 'timeout' is -5; expected a non-negative integer \(microseconds\)/],
    [{ priority: 'high' }, /parameter 'priority' is "high"; expected a non-negative integer/],
    [{ priority: 1.5 }, /parameter 'priority' is 1.5/],
  ])('scheduling parameters are checked: %j', async (parameters, message) => {
    const res = await post('/v2/models/linear/infer', { parameters, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ reason: 'PARAMETER_INVALID' });
    expect(res.json().error).toMatch(message);
  });
});

describe('classification and compressed requests', () => {
  it('returns the top k classes as "value:index" strings', async () => {
    const row = [1, 2];
    const res = await post('/v2/models/linear/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: row }],
      outputs: [{ name: 'probabilities', parameters: { classification: 2 } }],
    });
    expect(res.statusCode).toBe(200);
    const output = res.json().outputs[0];
    expect(output).toMatchObject({ name: 'probabilities', datatype: 'BYTES', shape: [1, 2] });
    const p = linearClassifierExpected(WEIGHTS, BIAS, [row]).probabilities[0]!;
    const order = [0, 1, 2].sort((a, b) => p[b]! - p[a]!);
    expect(output.data).toEqual(order.slice(0, 2).map((i) => `${p[i]!.toFixed(6)}:${i}`));
    const bad = await post('/v2/models/linear/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: row }],
      outputs: [{ name: 'probabilities', parameters: { classification: 0 } }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().reason).toBe('CLASSIFICATION_INVALID');
  });

  it('inflates gzip and deflate bodies; refuses other encodings with 415', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] });
    for (const [encoding, bytes] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
    ] as const) {
      const res = await post('/v2/models/linear/infer', bytes, { 'content-encoding': encoding });
      expect(res.statusCode).toBe(200);
    }
    const br = await post('/v2/models/linear/infer', body, { 'content-encoding': 'br' });
    expect(br.statusCode).toBe(415);
    expect(br.json().reason).toBe('UNSUPPORTED_CONTENT_ENCODING');
    const corrupt = await post('/v2/models/linear/infer', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json().reason).toBe('MALFORMED_REQUEST');
  });

  it('error bodies are exactly application/json', async () => {
    const res = await post('/v2/models/nope/infer', '{}');
    expect(res.headers['content-type']).toBe('application/json');
  });
});
