// A batch job's source as a PostgreSQL query (pg-cursor), on SIBYL_TEST_POSTGRES_URL: chunks in
// query order, committed chunks skipped, COUNT for the ETA; and a whole job from PostgreSQL rows
// into a SQLite prediction store through the real tabular model.
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatchJob } from '../../src/batch/batch-runner.ts';
import { PostgresQuerySource } from '../../src/batch/sources/sql-source.ts';
import { SqlitePredictionStore } from '../../src/batch/sqlite-prediction-store.ts';
import { openLocalScoring } from '../../src/cli/batch-scoring.ts';
import { EXAMPLE_REPOSITORY } from '../../src/cli/main.ts';
import { compileBatchJob } from '../../src/config/batch-job-config.ts';
import { createSystemClock } from '../../src/core/clock.ts';
import { makeTempDir, removeDir } from '../../src/testing/index.ts';
import { POSTGRES_URL } from './postgres.ts';

const TABLE = `sibyl_test_source_${process.pid}_${Date.now()}`;
const ROWS = 23;
let client: pg.Client;
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-pg-source-');
  client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`CREATE TABLE ${TABLE} (id TEXT PRIMARY KEY, n INT NOT NULL, features REAL[] NOT NULL)`);
  for (let i = 0; i < ROWS; i++) await client.query(`INSERT INTO ${TABLE} VALUES ($1, $2, $3)`, [`pg${String(i).padStart(2, '0')}`, i, Array.from({ length: 32 }, (_, j) => ((i + j) % 9) / 4 - 1)]);
});
afterAll(async () => {
  await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await client.end();
  await removeDir(dir);
});

describe('PostgresQuerySource', () => {
  it('reads a query through a cursor in chunks, skipping committed ones', async () => {
    const source = PostgresQuerySource.create(POSTGRES_URL, `SELECT id, n FROM ${TABLE} ORDER BY id`);
    expect(await source.countRows()).toBe(ROWS);
    const chunks = [];
    for await (const c of source.chunks({ chunkRows: 5, skip: new Set([1, 2]) })) chunks.push(c);
    expect(chunks.map((c) => [c.index, c.firstRowNumber, c.rows.length, c.rows[0]!.id])).toEqual([
      [0, 1, 5, 'pg00'],
      [3, 16, 5, 'pg15'],
      [4, 21, 3, 'pg20'],
    ]);
    expect(chunks[0]!.rows[1]).toEqual({ id: 'pg01', n: 1 });
    await expect((async () => {
      for await (const c of PostgresQuerySource.create(POSTGRES_URL, `SELECT nope FROM ${TABLE}`).chunks({ chunkRows: 5 })) void c;
    })()).rejects.toThrow(/the PostgreSQL source's query failed: column "nope" does not exist/);
  });

  it('feeds a batch job whose input is an array column', async () => {
    const clock = createSystemClock();
    const scoring = await openLocalScoring({ modelRepository: EXAMPLE_REPOSITORY, endpoints: new Map(), target: { kind: 'model', model: 'tabular_mlp' }, clock, log: pino({ level: 'silent' }) });
    const store = await SqlitePredictionStore.open(path.join(dir, 'p.sqlite'));
    try {
      const job = compileBatchJob(
        { name: 'from-pg', source: { sql: { postgres: POSTGRES_URL, query: `SELECT id, features FROM ${TABLE} ORDER BY id` } }, key: 'id', inputs: { input: { column: 'features' } }, target: { model: 'tabular_mlp' }, chunkRows: 10 },
        path.join(dir, 'job.yaml'),
      );
      const record = await runBatchJob(job, { store, scorer: scoring.scorer, clock }, { origin: 'test' });
      expect(record).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS, chunksTotal: 3 });
      const stored = await store.lookup('tabular_mlp', ['pg00', 'pg22']);
      expect(stored.get('pg22')!.outputs[0]!.shape).toEqual([2]);
    } finally {
      await store.close();
      await scoring.close();
    }
  });

  it('works with explicit timeouts, and fails a query that does not answer in queryTimeoutMs or a row over maxRecordBytes (issue 13)', async () => {
    const read = async (source: PostgresQuerySource): Promise<number> => {
      let rows = 0;
      for await (const c of source.chunks({ chunkRows: 5 })) rows += c.rows.length;
      return rows;
    };
    expect(await read(PostgresQuerySource.create(POSTGRES_URL, `SELECT id, n FROM ${TABLE} ORDER BY id`, { connectTimeoutMs: 5000, queryTimeoutMs: 5000 }))).toBe(ROWS);
    await expect(read(PostgresQuerySource.create(POSTGRES_URL, 'SELECT 1 AS id, pg_sleep(1)', { queryTimeoutMs: 100 }))).rejects.toThrow(
      "the PostgreSQL source's query failed: no answer within queryTimeoutMs (100 ms)",
    );
    await expect(read(PostgresQuerySource.create(POSTGRES_URL, `SELECT id, repeat('x', 5000 + n) AS s FROM ${TABLE} ORDER BY id`, { maxRecordBytes: 1024 }))).rejects.toThrow(
      /row 1 of the query is longer than maxRecordBytes \(1024 bytes\)/,
    );
  });
});
