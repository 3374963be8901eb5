// OpenTelemetry tracing: off without OTEL_* variables; with them, a SERVER span per inference
// request continuing the caller's traceparent, a queue span per request and one batch span linked
// to every request it served; exported over OTLP/HTTP protobuf to a real listener.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracingRequested } from '../src/observability/tracing/tracing.ts';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../src/testing/index.ts';
import { LINEAR_4X3 } from './fixtures.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
let repo: string;

const body = (i: number) => JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [i, 1, 2, 3] }] });
const post = (server: SibylServer, model: string, payload: string, headers: Record<string, string> = {}) =>
  server.http.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload, headers: { 'content-type': 'application/json', ...headers } });

beforeAll(async () => {
  repo = await makeTempDir('sibyl-tracing-');
  const linear = linearClassifierModel({ weights: LINEAR_4X3.weights, bias: LINEAR_4X3.bias }).bytes;
  await writeModelRepository(repo, {
    batched: { versions: { 1: linear }, config: 'dynamicBatching:\n  maxQueueDelayMs: 10000\n  preferredBatchSizes: [3]\n' },
  });
}, 60_000);

afterAll(async () => {
  await removeDir(repo);
});

describe('when tracing is on', () => {
  it('follows the OTEL_* variables', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
  });

  it('is off by default: no tracing part, requests answer as usual', async () => {
    const server = await createTestServer(repo, { env: {} });
    try {
      expect(server.observability.tracing).toBeUndefined();
      const answers = await Promise.all([0, 1, 2].map((i) => post(server, 'batched', body(i))));
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
    } finally {
      await server.shutdown();
    }
  });
});

describe('spans', () => {
  it('a request span per request, a queue span each, one batch span linked to all', async () => {
    const exporter = new InMemorySpanExporter();
    const server = await createTestServer(repo, { observability: { tracing: { exporter, processor: (e) => new SimpleSpanProcessor({ exporter: e }) } } });
    let spans;
    try {
      const answers = await Promise.all(
        [0, 1, 2].map((i) => post(server, 'batched', body(i), i === 0 ? { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, 'x-request-id': 'traced-0' } : {})),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200]);
      spans = exporter.getFinishedSpans(); // before shutdown, which empties the exporter
    } finally {
      await server.shutdown();
    }
    const requests = spans.filter((s) => s.name === 'POST /v2/models/:model/infer');
    const queues = spans.filter((s) => s.name === 'sibyl.queue');
    const batches = spans.filter((s) => s.name === 'sibyl.batch');
    expect([requests.length, queues.length, batches.length]).toEqual([3, 3, 1]);
    const continued = requests.find((s) => s.attributes['sibyl.request_id'] === 'traced-0')!;
    expect(continued.spanContext().traceId).toBe(TRACE_ID);
    expect(continued.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(continued.attributes).toMatchObject({ 'http.route': '/v2/models/:model/infer', 'sibyl.model': 'batched', 'http.response.status_code': 200 });
    const requestIds = new Set(requests.map((s) => s.spanContext().spanId));
    expect(new Set(queues.map((q) => q.parentSpanContext?.spanId))).toEqual(requestIds);
    for (const q of queues) expect(q.attributes).toMatchObject({ 'sibyl.model': 'batched', 'sibyl.version': '1', 'sibyl.rows': 1 });
    const batch = batches[0]!;
    expect(new Set(batch.links.map((l) => l.context.spanId))).toEqual(requestIds);
    expect(batch.attributes).toMatchObject({ 'sibyl.batch.rows': 3, 'sibyl.batch.requests': 3 });
    expect(requestIds.has(batch.parentSpanContext!.spanId)).toBe(true);
  });
});

describe('OTLP export', () => {
  let collector: Server;
  const received: { url: string; contentType: string; body: Buffer }[] = [];
  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('sends the spans to OTEL_EXPORTER_OTLP_ENDPOINT as OTLP/HTTP protobuf', async () => {
    const { port } = collector.address() as AddressInfo;
    // The OTLP exporter reads its OTEL_EXPORTER_OTLP_* settings from the process environment itself.
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'sibyl-under-test' };
    Object.assign(process.env, env);
    try {
      const server = await createTestServer(repo, { env });
      expect(server.observability.tracing).toBeDefined();
      await Promise.all([0, 1, 2].map((i) => post(server, 'batched', body(i))));
      await server.shutdown(); // flushes the exporter
    } finally {
      for (const name of Object.keys(env)) delete process.env[name];
    }
    expect(received.length).toBeGreaterThan(0);
    expect(received.map((r) => [r.url, r.contentType])).toContainEqual(['/v1/traces', 'application/x-protobuf']);
    const all = Buffer.concat(received.map((r) => r.body));
    for (const text of ['sibyl.batch', 'sibyl.queue', 'POST /v2/models/:model/infer', 'sibyl-under-test']) expect(all.includes(Buffer.from(text)), text).toBe(true);
  });
});
