// Issue 15, item 7, on the real PostgreSQL: a batch job sent over the API queries a named
// connection in a read-only transaction, so `DELETE … RETURNING` (and a data-modifying WITH) fails
// the job and deletes nothing, while a SELECT reads every row.
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SibylServer } from '../../src/server.ts';
import { createTestServer, linearClassifierModel, makeTempDir, removeDir, writeModelRepository } from '../../src/testing/index.ts';
import { LINEAR_4X3 } from '../fixtures.ts';
import { POSTGRES_URL } from './postgres.ts';

const TABLE = `sibyl_test_sandbox_${process.pid}_${Date.now()}`;
let client: pg.Client;
let dir: string;
let server: SibylServer;

const inputs = { key: 'id', inputs: { features: { columns: ['a', 'b', 'c', 'd'] } }, target: { model: 'linear' } };

beforeAll(async () => {
  dir = await makeTempDir('sibyl-pg-sandbox-');
  client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`CREATE TABLE ${TABLE} (id TEXT PRIMARY KEY, a REAL, b REAL, c REAL, d REAL)`);
  await client.query(`INSERT INTO ${TABLE} VALUES ('c0', 1, 2, 3, 4), ('c1', 5, 6, 7, 8), ('c2', 9, 10, 11, 12)`);
  await writeModelRepository(path.join(dir, 'models'), { linear: { versions: { 1: linearClassifierModel(LINEAR_4X3).bytes } } });
  server = await createTestServer(path.join(dir, 'models'), { configDir: dir, sandbox: { sourceRoots: [], connections: { warehouse: { postgres: POSTGRES_URL } } } });
});

afterAll(async () => {
  await server?.shutdown();
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.end();
  await removeDir(dir);
});

async function run(name: string, query: string) {
  const res = await server.http.inject({ method: 'POST', url: '/v1/batch/jobs', payload: JSON.stringify({ name, source: { sql: { connection: 'warehouse', query } }, ...inputs }), headers: { 'content-type': 'application/json' } });
  expect(res.statusCode).toBe(202);
  return server.batchJobs.whenDone((res.json() as { id: string }).id)!;
}

describe('a PostgreSQL connection of the sandbox', () => {
  it('refuses DELETE … RETURNING and a data-modifying WITH: the job fails, every row stays', async () => {
    for (const query of [`DELETE FROM ${TABLE} RETURNING *`, `WITH gone AS (DELETE FROM ${TABLE} RETURNING *) SELECT * FROM gone ORDER BY id`]) {
      const final = await run('delete', query);
      expect(final.status).toBe('failed');
      expect(final.error).toMatch(/read-only transaction/);
      expect(Number((await client.query(`SELECT COUNT(*) AS n FROM ${TABLE}`)).rows[0].n)).toBe(3);
    }
  });

  it('reads every row of a SELECT', async () => {
    expect(await run('select', `SELECT * FROM ${TABLE} ORDER BY id`)).toMatchObject({ status: 'succeeded', rowsWritten: 3 });
  });

  it('refuses a raw PostgreSQL URL in the spec before connecting: 403 PATH_NOT_ALLOWED', async () => {
    const res = await server.http.inject({
      method: 'POST',
      url: '/v1/batch/jobs',
      payload: JSON.stringify({ name: 'raw', source: { sql: { postgres: POSTGRES_URL, query: `DELETE FROM ${TABLE} RETURNING *` } }, ...inputs }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ reason: 'PATH_NOT_ALLOWED' });
    expect(Number((await client.query(`SELECT COUNT(*) AS n FROM ${TABLE}`)).rows[0].n)).toBe(3);
  });
});
