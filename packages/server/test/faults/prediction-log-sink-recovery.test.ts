// A prediction log sink that cannot be opened at first (its database down when the server starts)
// makes prediction_log degraded and is opened again for the next batch — it used to stay failed
// until a restart — and the component recovers once a batch is written.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PredictionRecord, PredictionSink } from '../../src/observability/prediction-log/record.ts';
import type { SibylServer } from '../../src/server.ts';
import { createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../../src/testing/index.ts';

const written: PredictionRecord[] = [];
let opens = 0;
const sink: PredictionSink = {
  name: 'memory',
  write: async (records) => void written.push(...records),
  query: async () => [...written],
  deleteBefore: async () => 0,
  close: async () => undefined,
};

let repo: string;
let server: SibylServer;

beforeAll(async () => {
  repo = await makeTempDir('sibyl-logsink-');
  await writeModelRepository(repo, { iris: { versions: { 1: linearClassifierModel({ weights: [[1], [2]], bias: [0] }).bytes }, config: 'predictionLog:\n  sampleRate: 1\n' } });
  server = await createTestServer(repo, {
    observability: {
      openSink: async () => {
        opens++;
        if (opens === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        return sink;
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await server?.shutdown();
  await removeDir(repo);
});

const infer = () =>
  server.http.inject({ method: 'POST', url: '/v2/models/iris/infer', headers: { 'content-type': 'application/json' }, payload: { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 1] }] } });
const ready = async () => (await server.http.inject({ method: 'GET', url: '/v2/health/ready' })).json();

it('reopens a sink that failed to open, and reports prediction_log degraded until a batch is written', async () => {
  expect((await infer()).statusCode).toBe(200);
  await server.observability.predictions!.flush();
  expect(opens).toBe(1);
  expect(written).toHaveLength(0);
  expect(await ready()).toMatchObject({ ready: true, degraded: [{ component: 'prediction_log', reason: '1 records could not be written: connect ECONNREFUSED 127.0.0.1:5432' }] });

  expect((await infer()).statusCode).toBe(200);
  await server.observability.predictions!.flush();
  expect(opens).toBe(2);
  expect(written).toHaveLength(1);
  expect(await ready()).toEqual({ ready: true });
});
