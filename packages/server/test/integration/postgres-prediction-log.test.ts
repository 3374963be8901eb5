// The prediction log of a served model on the PostgreSQL sink: records written through HTTP come
// back through GET /v1/models/{m}/predictions, and the table holds no clear value of the hashed
// field. Uses its own uniquely named table (dropped afterwards) on SIBYL_TEST_POSTGRES_URL.
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { createTestServer, identityModel, makeTempDir, removeDir, writeModelRepository } from '../../src/testing/index.ts';
import { POSTGRES_URL } from './postgres.ts';

const TABLE = `sibyl_test_plog_${process.pid}_${Date.now()}`;
const KEY = 'integration-key';
const SECRETS = ['carol@example.net', 'dave.private@example.com'];

describe('prediction log on PostgreSQL', () => {
  let repo: string;
  let server: SibylServer;
  const client = new pg.Client({ connectionString: POSTGRES_URL });

  beforeAll(async () => {
    await client.connect();
    repo = await makeTempDir('sibyl-pg-plog-');
    await writeModelRepository(repo, {
      echo: { versions: { 1: identityModel('BYTES', ['batch', 1]).bytes }, config: 'predictionLog:\n  sampleRate: 1\n  fields:\n    input: hash\n    output: drop\n' },
    });
    server = await createTestServer(repo, {
      predictionLog: { sink: 'postgres', path: '', postgresUrl: POSTGRES_URL, postgresTable: TABLE, hashKey: KEY, queueRecords: 1000, flushIntervalMs: 20, retentionDays: 30 },
    });
    for (const [i, email] of SECRETS.entries()) {
      const res = await server.http.inject({
        method: 'POST',
        url: '/v2/models/echo/infer',
        payload: JSON.stringify({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 1], data: [email] }] }),
        headers: { 'content-type': 'application/json', 'x-request-id': `pg-${i}` },
      });
      expect(res.statusCode).toBe(200);
    }
  }, 60_000);

  afterAll(async () => {
    await server?.shutdown();
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await client.end();
    await removeDir(repo);
  });

  it('returns the records through the API, hashed and dropped as configured', async () => {
    const body = (await server.http.inject({ method: 'GET', url: '/v1/models/echo/predictions' })).json();
    expect(body.predictions.map((p: { requestId: string; inputs: unknown; outputs: unknown }) => [p.requestId, p.inputs, p.outputs])).toEqual(
      SECRETS.map((email, i) => [
        `pg-${i}`,
        [{ name: 'input', datatype: 'BYTES', shape: [1, 1], redaction: 'hashed', data: [createHmac('sha256', KEY).update(email).digest('hex')] }],
        [{ name: 'output', datatype: 'BYTES', shape: [1, 1], redaction: 'dropped' }],
      ]),
    );
  });

  it('the table holds no clear value of the hashed field', async () => {
    const rows = (await client.query<{ text: string }>(`SELECT t::text AS text FROM ${TABLE} t`)).rows;
    expect(rows).toHaveLength(2);
    for (const { text } of rows) for (const secret of SECRETS) expect(text.includes(secret), secret).toBe(false);
    expect(rows.map((r) => r.text).join()).toContain(createHmac('sha256', KEY).update(SECRETS[0]!).digest('hex'));
  });
});
