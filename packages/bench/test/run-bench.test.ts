// runBench against an in-process V2 server: counts, error tallies by status and reason,
// failures, both load modes, worker threads, interruption, and the errors that stop a run
// before it starts. Only counts and structure are asserted, never timings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchError, runBench } from '../src/index.ts';
import type { BenchOptions, BenchResult } from '../src/index.ts';
import { behaviour, startFakeV2Server } from './fake-v2-server.ts';
import type { FakeV2Server } from './fake-v2-server.ts';

let server: FakeV2Server;
beforeAll(async () => {
  server = await startFakeV2Server();
});
afterAll(async () => {
  await server.close();
});

const run = (options: Partial<BenchOptions>): Promise<BenchResult> =>
  runBench({ url: server.url, model: 'm', warmupSeconds: 0, durationSeconds: 0.4, ...options });

async function benchError(options: Partial<BenchOptions>): Promise<BenchError> {
  try {
    await run(options);
  } catch (e) {
    if (e instanceof BenchError) return e;
    throw e;
  }
  throw new Error('expected the run to fail');
}

/** Counts add up: everything sent completed, as a 2xx, an HTTP error or a failure. */
function expectConsistent(r: BenchResult): void {
  const c = r.counts;
  expect(c.completed).toBe(c.sent);
  expect(c.ok + c.httpErrors + c.failures).toBe(c.completed);
  expect(Object.values(r.errors.byStatus).reduce((n, s) => n + s.count, 0)).toBe(c.httpErrors);
  expect(Object.values(r.errors.byFailure).reduce((n, f) => n + f.count, 0)).toBe(c.failures);
  expect(r.timeline.reduce((n, t) => n + t.completed, 0)).toBe(c.completed);
  expect(r.timeline.reduce((n, t) => n + t.ok, 0)).toBe(c.ok);
  expect(r.timeline.reduce((n, t) => n + t.sent, 0)).toBe(c.sent);
  expect(r.latency.count).toBe(c.ok);
}

describe('closed loop', () => {
  it('sends generated requests from the model metadata and counts every response', async () => {
    const before = server.received.x ?? 0; // generated requests carry the metadata's input name
    const r = await run({ concurrency: 4, batchSize: 3, warmupSeconds: 0.2 });
    expectConsistent(r);
    expect(r.counts.ok).toBeGreaterThan(0);
    expect(r.counts.httpErrors + r.counts.failures).toBe(0);
    // Warm-up requests reached the server but are not counted.
    expect((server.received.x ?? 0) - before).toBeGreaterThan(r.counts.sent);
    expect(r.connections).toBe(4);
    expect(r.requests).toMatchObject({ inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4] }], distinct: 16, encoding: 'json', rowsPerRequest: 3 });
    expect(r.throughput.rowsPerSecond).toBeCloseTo(3 * r.throughput.okPerSecond, 6);
    expect(r.timeline).toHaveLength(1);
    expect(r.sendLag).toBeUndefined();
    expect(r.latency.p50Ms).toBeGreaterThan(0);
    expect(r.latency.p50Ms).toBeLessThanOrEqual(r.latency.p99Ms);
    expect(r.latency.p99Ms).toBeLessThanOrEqual(r.latency.maxMs);
  });

  it('tallies HTTP errors by status and by the reason of the JSON error body', async () => {
    const r = await run({ concurrency: 1, requests: [behaviour('ok'), behaviour('busy'), behaviour('bad'), behaviour('text')] });
    expectConsistent(r);
    const s = r.errors.byStatus;
    expect(Object.keys(s).sort()).toEqual(['400', '500', '503']);
    expect(s['503']!.reasons).toEqual({ QUEUE_FULL: { count: s['503']!.count, example: 'queue is full' } });
    expect(s['400']!.reasons).toEqual({ '': { count: s['400']!.count, example: 'bad input' } });
    expect(s['500']!.reasons['']!.example).toBe('boom');
    // One connection, round-robin: the four kinds alternate, so their counts differ by at most one.
    const counts = [r.counts.ok, s['503']!.count, s['400']!.count, s['500']!.count];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(r.counts.httpErrors).toBe(counts.slice(1).reduce((a, b) => a + b));
  });

  it('copes with chunked responses and Connection: close, and counts resets as failures', async () => {
    const r = await run({ concurrency: 2, requests: [behaviour('chunked'), behaviour('close'), behaviour('ok'), behaviour('reset')] });
    expectConsistent(r);
    expect(r.counts.ok).toBeGreaterThan(0);
    expect(r.counts.httpErrors).toBe(0);
    expect(Object.keys(r.errors.byFailure)).toEqual(['ECONNRESET']);
    expect(r.counts.failures).toBeGreaterThan(0);
  });

  it('fails requests that get no response within the timeout', async () => {
    const r = await run({ concurrency: 2, requests: [behaviour('hang')], timeoutMs: 50, durationSeconds: 0.2 });
    expectConsistent(r);
    expect(r.counts.ok).toBe(0);
    expect(r.errors.byFailure.TIMEOUT?.count).toBe(r.counts.failures);
    expect(r.counts.failures).toBeGreaterThan(0);
    expect(r.latency.count).toBe(0);
    expect(r.latency.p99Ms).toBeNaN();
  });

  it('sends with the binary tensor extension', async () => {
    const r = await run({ concurrency: 2, binary: true, distinctRequests: 2 });
    expectConsistent(r);
    expect(r.requests.encoding).toBe('binary');
    expect(r.counts.ok).toBeGreaterThan(0);
  });

  it('spreads connections over worker threads', async () => {
    const r = await run({ concurrency: 3, workers: 2, requests: [behaviour('ok'), behaviour('busy')] });
    expectConsistent(r);
    expect(r.workers).toBe(2);
    expect(r.connections).toBe(3);
    expect(r.counts.ok).toBeGreaterThan(0);
    expect(r.errors.byStatus['503']!.reasons.QUEUE_FULL!.count).toBe(r.counts.httpErrors);
  });

  it('stops early on abort and reports what it measured', async () => {
    const abort = new AbortController();
    const progress: string[] = [];
    const result = runBench(
      { url: server.url, model: 'm', warmupSeconds: 0, durationSeconds: 30 },
      { signal: abort.signal, onPrepared: () => setTimeout(() => abort.abort(), 200), onProgress: (p) => progress.push(p.phase) },
    );
    const r = await result;
    expect(r.interrupted).toBe(true);
    expect(r.measuredSeconds).toBeLessThan(30);
    expect(r.timeline.length).toBeLessThan(30);
    expectConsistent(r);
  });
});

describe('open loop', () => {
  it('sends on a schedule and reports send lag', async () => {
    const r = await run({ ratePerSecond: 200, arrival: 'constant', durationSeconds: 0.3 });
    expectConsistent(r);
    expect(r.counts.sent).toBeGreaterThan(0);
    expect(r.counts.dropped).toBe(0);
    expect(r.sendLag?.count).toBe(r.counts.sent);
    expect((r.config.mode as { kind: string }).kind).toBe('open');
  });

  it('does not send requests beyond max-in-flight, and counts them', async () => {
    const r = await run({ ratePerSecond: 100, arrival: 'poisson', maxInFlight: 1, requests: [behaviour('slow')], durationSeconds: 0.5 });
    expectConsistent(r);
    expect(r.counts.sent).toBeGreaterThanOrEqual(1);
    expect(r.counts.dropped).toBeGreaterThan(0);
    expect(r.connections).toBe(1);
    expect(r.timeline.reduce((n, t) => n + t.dropped, 0)).toBe(r.counts.dropped);
  });
});

describe('errors before the run', () => {
  it('rejects invalid options as usage errors', async () => {
    const cases: [Partial<BenchOptions>, RegExp][] = [
      [{ url: 'ftp://x' }, /expected http or https/],
      [{ concurrency: 2, ratePerSecond: 10 }, /exclude each other/],
      [{ concurrency: 0 }, /concurrency is 0; expected an integer ≥ 1/],
      [{ arrival: 'poisson' }, /open loop only/],
      [{ durationSeconds: 0 }, /duration-seconds is 0; expected a number > 0/],
      [{ requests: [behaviour('ok')], batchSize: 2 }, /batch size applies to generated inputs/],
      [{ concurrency: 1, workers: 2 }, /workers \(2\) exceeds concurrency/],
      [{ headers: { 'Content-Length': '1' } }, /set by the bench tool/],
    ];
    for (const [options, message] of cases) {
      const e = await benchError(options);
      expect(e.kind, message.source).toBe('usage');
      expect(e.message).toMatch(message);
    }
  });

  it('reports an unreachable server and a missing model', async () => {
    const gone = await startFakeV2Server();
    await gone.close();
    const unreachable = await benchError({ url: gone.url });
    expect(unreachable.kind).toBe('unreachable');
    expect(unreachable.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
    const missing = await benchError({ model: 'nope' });
    expect(missing.kind).toBe('metadata');
    expect(missing.message).toMatch(/\/v2\/models\/nope answered 404 \(is 'nope' served there\?\): no route/);
  });
});
