// Lookups of stored predictions through the HTTP API, in process: what a batch job committed
// comes back by key with its version, job, time and age (on a manual clock); absent keys and
// bad bodies get clear errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../src/server.ts';
import { ManualClock, ScriptedRuntime, createTestServer, makeTempDir, removeDir } from '../src/testing/index.ts';
import { samplePrediction } from '../src/testing/prediction-store-contract.ts';
import { MAX_LOOKUP_KEYS } from '../src/frontends/http/prediction-routes.ts';

const T0 = 1_800_000_000_000;
let repo: string;
let server: SibylServer;
const clock = new ManualClock(T0);

beforeAll(async () => {
  repo = await makeTempDir('sibyl-predictions-http-');
  server = await createTestServer(repo, { runtime: new ScriptedRuntime(), clock });
  await server.predictionStore.commitChunk('job-7', 0, [
    samplePrediction('c1', { createdAtMs: T0 - 5000, jobId: 'job-7' }),
    samplePrediction('acme|42', { createdAtMs: T0 - 60_000, version: '4', jobId: 'job-7' }),
    samplePrediction('a/b c', { createdAtMs: T0, jobId: 'job-7' }),
  ]);
  clock.advance(250);
});

afterAll(async () => {
  await server.shutdown();
  await removeDir(repo);
});

const get = (url: string) => server.http.inject({ method: 'GET', url });
const lookup = (model: string, payload: string) => server.http.inject({ method: 'POST', url: `/v1/predictions/${model}/lookup`, headers: { 'content-type': 'application/json' }, payload });

describe('GET /v1/predictions/{model}/{key}', () => {
  it('returns the stored prediction with its version, job, time and age', async () => {
    const res = await get('/v1/predictions/churn/c1');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      model: 'churn',
      key: 'c1',
      version: '3',
      jobId: 'job-7',
      createdAt: new Date(T0 - 5000).toISOString(),
      createdAtMs: T0 - 5000,
      ageMs: 5250,
      outputs: samplePrediction('c1').outputs,
    });
  });

  it('finds keys with separators, slashes and spaces when URL-encoded', async () => {
    expect((await get(`/v1/predictions/churn/${encodeURIComponent('acme|42')}`)).json()).toMatchObject({ key: 'acme|42', version: '4', ageMs: 60_250 });
    expect((await get(`/v1/predictions/churn/${encodeURIComponent('a/b c')}`)).json()).toMatchObject({ key: 'a/b c', ageMs: 250 });
  });

  it('answers 404 PREDICTION_NOT_FOUND naming the model and key', async () => {
    for (const url of ['/v1/predictions/churn/nobody', '/v1/predictions/other-model/c1']) {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND', reason: 'PREDICTION_NOT_FOUND' });
    }
    expect((await get('/v1/predictions/churn/nobody')).json().error).toBe('no prediction of model churn is stored for key "nobody"; batch jobs store them (sibyl batch run)');
  });
});

describe('POST /v1/predictions/{model}/lookup', () => {
  it('returns the predictions found, in the order asked, and the missing keys', async () => {
    const res = await lookup('churn', JSON.stringify({ keys: ['acme|42', 'nobody', 'c1', 'c1', 'also-missing'] }));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.model).toBe('churn');
    expect(body.predictions.map((p: { key: string; ageMs: number; jobId: string }) => [p.key, p.ageMs, p.jobId])).toEqual([
      ['acme|42', 60_250, 'job-7'],
      ['c1', 5250, 'job-7'],
    ]);
    expect(body.missing).toEqual(['nobody', 'also-missing']);
  });

  const bad: [string, string, string][] = [
    ['no body', '', 'request body is empty; expected {"keys": ["<key>", ...]}'],
    ['not JSON', '{keys', 'request body is not valid JSON'],
    ['an array', '["c1"]', 'request body is ["c1"]; expected {"keys"'],
    ['keys missing', '{}', 'keys is missing; expected'],
    ['keys not a list', '{"keys": "c1"}', 'keys is "c1"; expected'],
    ['no keys', '{"keys": []}', `keys has 0 keys; expected 1 to ${MAX_LOOKUP_KEYS}`],
    ['too many keys', JSON.stringify({ keys: Array.from({ length: MAX_LOOKUP_KEYS + 1 }, (_, i) => `k${i}`) }), `keys has ${MAX_LOOKUP_KEYS + 1} keys; expected 1 to ${MAX_LOOKUP_KEYS} (split larger lookups)`],
    ['a number key', '{"keys": ["c1", 42]}', 'keys[1] is 42, not a string'],
    ['an unknown field', '{"keys": ["c1"], "model": "x"}', 'unknown field "model" in the lookup'],
  ];
  for (const [what, payload, message] of bad) {
    it(`answers 400 for ${what}`, async () => {
      const res = await lookup('churn', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.startsWith(message), res.json().error).toBe(true);
      expect(res.json().code).toBe('INVALID_ARGUMENT');
    });
  }
});
