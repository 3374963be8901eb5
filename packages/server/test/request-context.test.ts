// One request context per request (issue 14): a request routed through an endpoint — a split's
// arm, every stage of a cascade, a failed target and its fallback — keeps the request id and the
// trace its frontend gave it, so each of its prediction-log records and spans names it, over REST
// and gRPC alike. And the request-duration histogram counts from the same point for the three
// frontends: the request's arrival, read from the core's clock.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { GRPC_LOADER_OPTIONS } from '@sibyl/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { predictionLogServerDefaults } from '../src/config/prediction-log-config.ts';
import type { PredictionRecord, PredictionSink } from '../src/observability/prediction-log/record.ts';
import type { SibylServer } from '../src/server.ts';
import { ManualClock, ScriptedRuntime, createTestServer, makeTempDir, parsePrometheusText, removeDir, writeModelRepository } from '../src/testing/index.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const LOGGED = 'predictionLog:\n  sampleRate: 1\n';

type Message = Record<string, unknown>;

function grpcClient(address: string): grpc.Client {
  const protoDir = fileURLToPath(new URL('../../protocol/proto/', import.meta.url));
  const definition = grpc.loadPackageDefinition(loadSync('grpc_service.proto', { ...GRPC_LOADER_OPTIONS, includeDirs: [protoDir] }));
  const Inference = (definition.inference as Record<string, unknown>).GRPCInferenceService as grpc.ServiceClientConstructor;
  return new Inference(address, grpc.credentials.createInsecure());
}

/** ModelInfer with metadata (traceparent); resolves with the response or the error. */
function modelInfer(client: grpc.Client, request: Message, metadata: Record<string, string>): Promise<Message> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: Message, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Message) => void) => void>).ModelInfer!(request, md, (err, response) =>
      err === null ? resolve(response) : reject(err),
    ),
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a request through an endpoint keeps its context', () => {
  let repo: string;
  let server: SibylServer;
  let client: grpc.Client;
  const exporter = new InMemorySpanExporter();
  const written: PredictionRecord[] = [];
  const sink: PredictionSink = {
    name: 'memory',
    write: async (records) => void written.push(...records),
    query: async () => [...written],
    deleteBefore: async () => 0,
    close: async () => undefined,
  };

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-context-');
    await writeModelRepository(repo, {
      a: { versions: { 1: 'add 1' }, config: LOGGED },
      b: { versions: { 1: 'add 2' }, config: LOGGED },
      small: { versions: { 1: 'add 0' }, config: LOGGED },
      big: { versions: { 1: 'add 10' }, config: LOGGED },
      broken: { versions: { 1: 'fail-runs' }, config: LOGGED },
      spare: { versions: { 1: 'add 100' }, config: LOGGED },
    });
    server = await createTestServer(repo, {
      runtime: new ScriptedRuntime(),
      predictionLog: { ...predictionLogServerDefaults(), flushIntervalMs: 10 },
      observability: { openSink: async () => sink, tracing: { exporter, processor: (e) => new SimpleSpanProcessor({ exporter: e }) } },
      endpoints: {
        split: { split: { arms: [{ name: 'one', model: 'a', weight: 50 }, { name: 'two', model: 'b', weight: 50 }] } },
        // Stage 1 adds 0 (confidence = x): x = 0.5 goes on to stage 2.
        cascade: { cascade: { stages: [{ model: 'small', threshold: 0.9 }, { model: 'big' }] } },
        fallback: { target: { model: 'broken' }, fallback: { target: { model: 'spare' } } },
      } as never,
    });
    const port = await server.grpc.listen('127.0.0.1', 0);
    client = grpcClient(`127.0.0.1:${port}`);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.shutdown();
    await removeDir(repo);
  });

  afterEach(() => exporter.reset());

  /** The models each endpoint's request runs on, in order, and what answers. */
  const expected = { split: { models: 1, answeredBy: ['a', 'b'] }, cascade: { models: 2, answeredBy: ['big'] }, fallback: { models: 2, answeredBy: ['spare'] } } as const;

  describe.each(['rest', 'grpc'] as const)('over %s', (transport) => {
    it.each(['split', 'cascade', 'fallback'] as const)('%s: every prediction-log record and span of it carries its request id, in one trace', async (endpoint) => {
      const requestId = `${transport}-${endpoint}`;
      const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;
      let answeredBy: string;
      if (transport === 'rest') {
        const res = await server.http.inject({
          method: 'POST',
          url: `/v2/models/${endpoint}/infer`,
          headers: { 'content-type': 'application/json', 'x-request-id': requestId, traceparent },
          payload: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [0.5] }] }),
        });
        expect(res.statusCode).toBe(200);
        answeredBy = (res.json() as { model_name: string }).model_name;
      } else {
        const response = await modelInfer(client, { model_name: endpoint, id: requestId, inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '1'], contents: { fp32_contents: [0.5] } }] }, { traceparent });
        answeredBy = response.model_name as string;
      }
      expect(expected[endpoint].answeredBy).toContain(answeredBy);

      // The prediction log: one record per model the request ran on, each with the request id.
      await until(() => written.filter((r) => r.requestId === requestId).length === expected[endpoint].models, `${expected[endpoint].models} records of ${requestId}`);
      const records = written.filter((r) => r.requestId === requestId);
      expect(records.map((r) => r.model)).toContain(answeredBy);
      if (endpoint === 'fallback') expect(records.map((r) => [r.model, r.outcome]).sort()).toEqual([['broken', 'error'], ['spare', 'success']]);
      if (endpoint === 'cascade') expect(records.map((r) => r.model).sort()).toEqual(['big', 'small']);

      // Traces: the frontend's request span (continuing the caller's trace, naming the request id)
      // is the parent of a queue span for every model the request was queued on; all one trace.
      await until(() => exporter.getFinishedSpans().some((s) => s.attributes['sibyl.request_id'] === requestId), `the request span of ${requestId}`);
      const spans = exporter.getFinishedSpans();
      const request = spans.filter((s) => s.attributes['sibyl.request_id'] === requestId);
      expect(request).toHaveLength(1);
      expect(request[0]!.spanContext().traceId).toBe(TRACE_ID);
      const queues = spans.filter((s) => s.name === 'sibyl.queue');
      // A target that fails every execution fails before it is queued a second time: at least one queue span per model.
      expect(new Set(queues.map((q) => q.attributes['sibyl.model']))).toEqual(new Set(records.map((r) => r.model)));
      for (const q of queues) {
        expect(q.spanContext().traceId).toBe(TRACE_ID);
        expect(q.parentSpanContext?.spanId).toBe(request[0]!.spanContext().spanId);
      }
    });
  });
});

describe('the request-duration histogram', () => {
  let repo: string;
  let server: SibylServer;
  let client: grpc.Client;
  const clock = new ManualClock(1_000_000);
  const runtime = new ScriptedRuntime();

  beforeAll(async () => {
    repo = await makeTempDir('sibyl-arrival-');
    await writeModelRepository(repo, { m: { versions: { 1: 'add 1' } } });
    server = await createTestServer(repo, { runtime, clock });
    const port = await server.grpc.listen('127.0.0.1', 0);
    client = grpcClient(`127.0.0.1:${port}`);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.shutdown();
    await removeDir(repo);
  });

  /** Sum and count of sibyl_inference_request_duration_seconds for m. */
  async function histogram(): Promise<{ sum: number; count: number }> {
    const text = (await server.http.inject({ method: 'GET', url: '/metrics' })).body;
    const family = parsePrometheusText(text).get('sibyl_inference_request_duration_seconds')!;
    const value = (suffix: string) => family.samples.filter((s) => s.name === `sibyl_inference_request_duration_seconds${suffix}` && s.labels.model === 'm').reduce((n, s) => n + s.value, 0);
    return { sum: value('_sum'), count: value('_count') };
  }

  const send = {
    v2: () =>
      server.http.inject({ method: 'POST', url: '/v2/models/m/infer', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] }) }),
    tfserving: () => server.http.inject({ method: 'POST', url: '/v1/models/m:predict', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ instances: [[1]] }) }),
    grpc: () => modelInfer(client, { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: ['1', '1'], contents: { fp32_contents: [1] } }] }, {}),
  };

  it.each(['v2', 'tfserving', 'grpc'] as const)('%s: counts from the arrival of the request (the same point for every frontend)', async (frontend) => {
    const before = await histogram();
    const held = runtime.hold('execute', 'm:1');
    const answered = send[frontend]();
    await until(() => held.waiters === 1, 'the execution to be held');
    clock.advance(250); // all the time the request takes, on the core's clock
    held.release();
    await answered;
    const after = await histogram();
    expect(after.count - before.count).toBe(1);
    // Exactly the 250 ms between arrival and answer: nothing before the arrival, no real time.
    expect(after.sum - before.sum).toBeCloseTo(0.25, 9);
  });
});
