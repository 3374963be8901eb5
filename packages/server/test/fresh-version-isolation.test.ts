// Issue 13, H3 on a version that has answered nothing yet (acceptance re-run, note 1): right after
// a load, the first requests an endpoint with a breaker receives carry out-of-range indices for a
// real onnxruntime embedding model (a Gather). They get 400 INPUT_REJECTED_BY_MODEL, the breaker
// stays closed and valid requests are answered: a probe (without warm-up) or the warm-up (with
// one) shows the version answers others. A release whose every run fails is still the server's:
// its failures are 500 and open the breaker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { createTestServer, embeddingExpected, embeddingModel, makeTempDir, parsePrometheusText, removeDir, sampleValue, writeModelRepository } from '../src/testing/index.ts';
import { EMBEDDING_1000X2, inferIds } from './fixtures.ts';

const { rows: ROWS, width: WIDTH, tokens: TOKENS } = EMBEDDING_1000X2;
let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-fresh-isolation-');
  const model = embeddingModel({ rows: ROWS, width: WIDTH, tokens: TOKENS }).bytes;
  await writeModelRepository(repo, {
    // No warm-up (the default): nothing has run on the version when the first request comes.
    embed: { versions: { 1: model } },
    warmed: { versions: { 1: model }, config: 'warmup: {}\n' },
    // An empty table: every index is out of range, so every run fails, generated ones too.
    broken: { versions: { 1: embeddingModel({ rows: 0, width: WIDTH, tokens: TOKENS }).bytes } },
  });
  const breaker = { consecutiveFailures: 2 };
  server = await createTestServer(repo, {
    endpoints: {
      front: { target: { model: 'embed' }, breaker },
      warm: { target: { model: 'warmed' }, breaker },
      release: { target: { model: 'broken' }, breaker },
    } as never,
  });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const infer = (name: string, ids: number[]) => inferIds(server, name, ids);

const endpointReport = async (name: string) =>
  (await server.http.inject({ method: 'GET', url: `/v1/endpoints/${name}` })).json() as { breakers: Record<string, string>; arms: Record<string, { errors: number; clientErrors: number }> };

const probes = async (model: string) => {
  const metrics = parsePrometheusText((await server.http.inject({ method: 'GET', url: '/metrics' })).body);
  return sampleValue(metrics, 'sibyl_inference_isolation_executions_total', { model, version: '1', cause: 'probe' });
};

describe('bad input as the first requests a version gets', () => {
  it('without warm-up: 400 INPUT_REJECTED_BY_MODEL, the breaker stays closed, valid requests are answered (one probe)', async () => {
    for (const bad of [99_999, 100_000]) {
      const answer = await infer('front', [1, bad]);
      expect(answer.status, answer.body).toBe(400);
      expect(answer.json).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'INPUT_REJECTED_BY_MODEL' });
      expect(answer.json.error).toContain(`idx=${bad} must be within the inclusive range [-${ROWS},${ROWS - 1}]`);
    }
    const valid = await infer('front', [1, 2]);
    expect(valid.status, valid.body).toBe(200);
    expect(valid.json.outputs![0]!.data).toEqual(embeddingExpected([1, 2], WIDTH));
    const report = await endpointReport('front');
    expect(report.breakers).toEqual({ embed: 'closed' });
    expect(Object.values(report.arms)).toEqual([expect.objectContaining({ errors: 0, clientErrors: 2 })]);
    expect(await probes('embed')).toBe(1);
  }, 60_000);

  it('with warm-up: the warm-up is the evidence, no probe runs', async () => {
    for (const bad of [5000, 5001]) {
      const answer = await infer('warm', [bad, 3]);
      expect(answer.status, answer.body).toBe(400);
      expect(answer.json.reason).toBe('INPUT_REJECTED_BY_MODEL');
    }
    expect((await infer('warm', [4, 5])).status).toBe(200);
    expect((await endpointReport('warm')).breakers).toEqual({ warmed: 'closed' });
    expect(await probes('warmed')).toBe(0);
  }, 60_000);

  it('a release that fails every run is the server\'s: 500s, then the breaker opens', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await infer('release', [0, 1]);
      expect(answer.status, answer.body).toBe(500);
      expect(answer.json).toMatchObject({ code: 'INTERNAL', reason: 'RUNTIME_FAILED' });
    }
    const refused = await infer('release', [0, 1]);
    expect(refused.status, refused.body).toBe(503);
    expect(refused.json.error).toContain('circuit breaker of broken is open');
    expect(await probes('broken')).toBe(1);
  }, 60_000);
});
