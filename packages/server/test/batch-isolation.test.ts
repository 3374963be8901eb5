// Issue 13, H3, end to end through a real onnxruntime session with dynamic batching: an embedding
// model (a Gather) throws on an out-of-range index. Concurrent clients, two of them sending bad
// indices: every valid request is answered with its own values, every bad one gets 400
// INPUT_REJECTED_BY_MODEL naming only its own index, the isolation is counted in the metrics, and
// an endpoint's breaker and arm statistics hold none of it against the model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, embeddingExpected, embeddingModel, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../src/testing/index.ts';
import { EMBEDDING_1000X2, inferIds } from './fixtures.ts';

const { rows: ROWS, width: WIDTH, tokens: TOKENS } = EMBEDDING_1000X2;
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-isolation-');
  const model = embeddingModel({ rows: ROWS, width: WIDTH, tokens: TOKENS }).bytes;
  await writeModelRepository(repo, {
    // One instance and a queue delay, so concurrent requests share batches.
    embed: { versions: { 1: model }, config: 'instanceCount: 1\ndynamicBatching:\n  maxQueueDelayMs: 5\n' },
    guarded: { versions: { 1: model } },
  });
  server = await createTestServer(repo, { endpoints: { front: { target: { model: 'guarded' }, breaker: { consecutiveFailures: 2 } } } as never });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const infer = (name: string, ids: number[]) => inferIds(server, name, ids);

describe('one client\'s out-of-range index, batched with others', () => {
  it('fails only that request, with 400 and only its own index; every valid request gets its own answer', async () => {
    // Nothing has run on the version yet: its first batches hold bad requests too.
    // 8 clients with valid ids, 2 with bad ones, 12 requests each, all at once. Every bad id is
    // unique, so a message quoting another request's index is recognisable.
    const requests: { client: number; ids: number[]; bad: boolean }[] = [];
    for (let k = 0; k < 12; k++) {
      for (let client = 0; client < 10; client++) {
        const bad = client >= 8;
        const ids = bad ? [client * 10 + (k % 10), 100_000 + client * 1000 + k] : [client * 100 + k, client * 100 + k + 50];
        requests.push({ client, ids, bad });
      }
    }
    const answers = await Promise.all(requests.map((r) => infer('embed', r.ids)));

    const badIds = new Set(requests.filter((r) => r.bad).map((r) => r.ids[1]!));
    answers.forEach((answer, i) => {
      const r = requests[i]!;
      if (!r.bad) {
        expect(answer.status, answer.body).toBe(200);
        expect(answer.json.outputs![0]!.data).toEqual(embeddingExpected(r.ids, WIDTH));
        return;
      }
      expect(answer.status, answer.body).toBe(400);
      expect(answer.json).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INPUT_REJECTED_BY_MODEL' });
      expect(answer.json.error).toContain(`idx=${r.ids[1]} must be within the inclusive range [-${ROWS},${ROWS - 1}]`);
      for (const other of badIds) if (other !== r.ids[1]) expect(answer.json.error).not.toContain(String(other));
    });

    const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
    const version = { model: 'embed', version: '1' };
    // The test made batches (else it proves nothing), and each bad request was isolated.
    const isolationRuns = sampleValue(metrics, 'sibyl_inference_isolation_executions_total', { ...version, cause: 'run_failed' })!;
    expect(sampleValue(metrics, 'sibyl_inference_batch_size_count', version)! - isolationRuns).toBeLessThan(requests.length / 2);
    expect(isolationRuns).toBeGreaterThanOrEqual(2 * badIds.size);
    expect(sampleValue(metrics, 'sibyl_inference_isolation_requests_total', { ...version, outcome: 'input_rejected' })).toBe(badIds.size);
    expect(sampleValue(metrics, 'sibyl_inference_isolation_requests_total', { ...version, outcome: 'failed' })).toBe(0);
    expect(sampleValue(metrics, 'sibyl_inference_isolation_requests_total', { ...version, outcome: 'answered' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'sibyl_inference_requests_total', { ...version, outcome: 'error', code: 'INVALID_ARGUMENT', reason: 'INPUT_REJECTED_BY_MODEL' })).toBe(badIds.size);
    expect(sampleValue(metrics, 'sibyl_inference_requests_total', { ...version, outcome: 'success', code: 'OK', reason: '' })).toBe(requests.length - badIds.size);
  }, 60_000);

  it('counts as the caller\'s error at an endpoint: its breaker stays closed and its arm has no server error', async () => {
    expect((await infer('front', [3, 4])).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const bad = await infer('front', [5, 5000 + i]);
      expect(bad.status, bad.body).toBe(400);
      expect(bad.json.reason).toBe('INPUT_REJECTED_BY_MODEL');
    }
    const after = await infer('front', [6, 7]);
    expect(after.status, after.body).toBe(200);
    const report = (await server.http.inject({ method: 'GET', url: '/v1/endpoints/front' })).json() as { breakers: Record<string, string>; arms: Record<string, { errors: number; clientErrors: number }> };
    expect(report.breakers).toEqual({ guarded: 'closed' });
    expect(Object.values(report.arms)).toEqual([expect.objectContaining({ errors: 0, clientErrors: 3 })]);
  }, 60_000);
});
