// The PostgreSQL prediction store passes the contract every adapter runs, on
// SIBYL_TEST_POSTGRES_URL, each store on its own uniquely prefixed tables (dropped afterwards).
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresPredictionStore } from '../../src/batch/postgres-prediction-store.ts';
import { ScriptedRuntime, createTestServer, makeTempDir, removeDir } from '../../src/testing/index.ts';
import { predictionStoreContract, samplePrediction } from '../../src/testing/prediction-store-contract.ts';
import { POSTGRES_URL } from './postgres.ts';

const RUN = `sibyl_test_ps_${process.pid}_${Date.now()}`;
const prefixes: string[] = [];
let n = 0;
const open = (prefix = `${RUN}_${++n}_`): Promise<PostgresPredictionStore> => {
  prefixes.push(prefix);
  return PostgresPredictionStore.open({ url: POSTGRES_URL, tablePrefix: prefix });
};

afterAll(async () => {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  for (const p of new Set(prefixes)) await client.query(`DROP TABLE IF EXISTS ${p}predictions, ${p}batch_jobs, ${p}batch_chunks`);
  await client.end();
});

predictionStoreContract('PostgreSQL', { open: () => open(), reopen: () => open(prefixes.at(-1)) });

describe('PostgresPredictionStore', () => {
  it('keeps outputs as JSONB that SQL can read', async () => {
    const store = await open();
    const prefix = prefixes.at(-1)!;
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await store.commitChunk('job-a', 0, [samplePrediction('c1')]);
      const row = (await client.query(`SELECT outputs->0->'data'->>1 AS p1, job_id, created_at FROM ${prefix}predictions WHERE model = 'churn' AND key = 'c1'`)).rows[0];
      expect(row).toEqual({ p1: '0.8999999761581421', job_id: 'job-a', created_at: '1780000000123' });
    } finally {
      await client.end();
      await store.close();
    }
  });

  it('rejects a prefix that is not an identifier, and names an unreachable server', async () => {
    await expect(PostgresPredictionStore.open({ url: POSTGRES_URL, tablePrefix: 'x; DROP' })).rejects.toThrow("prediction store table prefix 'x; DROP' is not a plain SQL identifier");
    await expect(PostgresPredictionStore.open({ url: 'postgres://nobody@127.0.0.1:1/none', tablePrefix: 'p_' })).rejects.toThrow(/cannot open the PostgreSQL prediction store \(tables p_\*\): .*ECONNREFUSED/);
  });

  it('writes a chunk of 20,000 rows in one transaction, all or nothing', async () => {
    const store = await open();
    try {
      const rows = Array.from({ length: 20_000 }, (_, i) => samplePrediction(`k${i}`, { outputs: [{ name: 's', datatype: 'FP32', shape: [1], data: [i] }] }));
      await store.commitChunk('job-a', 0, rows);
      expect((await store.lookup('churn', ['k0', 'k19999', 'k20000'])).size).toBe(2);
      const bad = rows.map((r) => ({ ...r, version: '9' }));
      (bad[15_000] as { key: unknown }).key = null;
      await expect(store.commitChunk('job-a', 1, bad)).rejects.toThrow(/null value in column "key"/);
      expect((await store.lookup('churn', ['k1'])).get('k1')!.version).toBe('3');
      expect([...(await store.committedChunks('job-a'))]).toEqual([0]);
    } finally {
      await store.close();
    }
  });
});

describe('a server on a PostgreSQL prediction store', () => {
  it('opens the configured store, answers lookups from it, and closes it on shutdown', async () => {
    const prefix = `${RUN}_server_`;
    prefixes.push(prefix);
    const repo = await makeTempDir('sibyl-pg-store-server-');
    const server = await createTestServer(repo, { runtime: new ScriptedRuntime(), predictionStore: { backend: 'postgres', path: '', url: POSTGRES_URL, tablePrefix: prefix } });
    try {
      expect(server.predictionStore).toBeInstanceOf(PostgresPredictionStore);
      await server.predictionStore.commitChunk('job-a', 0, [samplePrediction('c1')]);
      const res = await server.http.inject({ method: 'POST', url: '/v1/predictions/churn/lookup', headers: { 'content-type': 'application/json' }, payload: '{"keys": ["c1", "c2"]}' });
      expect(res.json()).toMatchObject({ predictions: [{ key: 'c1', version: '3', jobId: 'job-a', outputs: samplePrediction('c1').outputs }], missing: ['c2'] });
    } finally {
      await server.shutdown();
      await removeDir(repo);
    }
    await expect(server.predictionStore.lookup('churn', ['c1'])).rejects.toThrow(/pool/i);
  });
});
