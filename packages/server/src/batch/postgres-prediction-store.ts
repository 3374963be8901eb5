// The shared prediction store in PostgreSQL (pg), for jobs whose predictions other systems read
// or that run on several machines. Tables, created if missing (their names start with a
// configurable prefix, default `sibyl_`):
//   <prefix>predictions  (model, key) → version, outputs (JSONB, readable in SQL), job_id, created_at
//   <prefix>batch_jobs   a job's record (JSONB) with its name and creation time
//   <prefix>batch_chunks (job_id, chunk_index) of every committed chunk
// A chunk is written by one INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO UPDATE and its
// chunk mark, in one transaction: one round trip for the rows whatever their number. Numbers
// that JSON cannot hold (NaN, ±Infinity) are stored as null.
//
// Bounds: a connection (TCP and handshake) must be ready within connectTimeoutMs and every query
// answer within queryTimeoutMs; a client whose query failed is discarded, not reused, so a
// server that stops answering fails the calls (a job, a lookup) instead of holding them forever.
import pg from 'pg';
import type { BatchJobRecord, PredictionStore, StoredOutput, StoredPrediction } from './prediction-store.ts';

export interface PostgresPredictionStoreOptions {
  /** Connection URL; '' uses the PG* environment variables. */
  url: string;
  /** Start of the tables' names: a plain SQL identifier. Default 'sibyl_'. */
  tablePrefix?: string;
  /** Connections in the pool. Default 4. */
  poolSize?: number;
  /** The TCP connection and the handshake of each pooled connection. Default DEFAULT_STORE_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Each query (a chunk's commit is one). Default DEFAULT_STORE_QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number;
}

export const DEFAULT_STORE_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_STORE_QUERY_TIMEOUT_MS = 60_000;

interface PredictionRow {
  key: string;
  version: string;
  outputs: StoredOutput[];
  job_id: string;
  created_at: string;
}

export class PostgresPredictionStore implements PredictionStore {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly tables: { predictions: string; jobs: string; chunks: string },
  ) {}

  /**
   * Connects and creates the tables if needed (under an advisory lock, so workers starting
   * together do not race).
   * @throws Error when the prefix is not an identifier, or the server cannot be reached or the tables created.
   */
  static async open(options: PostgresPredictionStoreOptions): Promise<PostgresPredictionStore> {
    const prefix = options.tablePrefix ?? 'sibyl_';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(prefix)) throw new Error(`prediction store table prefix '${prefix}' is not a plain SQL identifier (letters, digits and _, up to 41 characters)`);
    const tables = { predictions: `${prefix}predictions`, jobs: `${prefix}batch_jobs`, chunks: `${prefix}batch_chunks` };
    const pool = new pg.Pool({
      ...(options.url === '' ? {} : { connectionString: options.url }),
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_STORE_CONNECT_TIMEOUT_MS,
      query_timeout: options.queryTimeoutMs ?? DEFAULT_STORE_QUERY_TIMEOUT_MS,
    });
    pool.on('error', () => undefined); // idle clients that lose their connection are replaced
    try {
      await transaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sibyl-prediction-store:${prefix}`]);
        await client.query(`CREATE TABLE IF NOT EXISTS ${tables.predictions} (
          model TEXT NOT NULL,
          key TEXT NOT NULL,
          version TEXT NOT NULL,
          outputs JSONB NOT NULL,
          job_id TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          PRIMARY KEY (model, key)
        )`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${tables.jobs} (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at BIGINT NOT NULL, record JSONB NOT NULL)`);
        await client.query(`CREATE INDEX IF NOT EXISTS ${tables.jobs}_by_name ON ${tables.jobs} (name, created_at)`);
        await client.query(`CREATE INDEX IF NOT EXISTS ${tables.jobs}_by_created ON ${tables.jobs} (created_at)`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${tables.chunks} (job_id TEXT NOT NULL, chunk_index INTEGER NOT NULL, rows INTEGER NOT NULL, committed_at BIGINT NOT NULL, PRIMARY KEY (job_id, chunk_index))`);
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the PostgreSQL prediction store (tables ${prefix}*): ${(err as Error).message}`, { cause: err });
    }
    return new PostgresPredictionStore(pool, tables);
  }

  async commitChunk(jobId: string, chunkIndex: number, predictions: readonly StoredPrediction[]): Promise<void> {
    const n = predictions.length;
    const models = new Array<string>(n);
    const keys = new Array<string>(n);
    const versions = new Array<string>(n);
    const outputs = new Array<string>(n);
    const jobIds = new Array<string>(n);
    const times = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const p = predictions[i]!;
      models[i] = p.model;
      keys[i] = p.key;
      versions[i] = p.version;
      outputs[i] = JSON.stringify(p.outputs);
      jobIds[i] = p.jobId;
      times[i] = p.createdAtMs;
    }
    const t = this.tables;
    await transaction(this.pool, async (client) => {
      if (n > 0) {
        // DISTINCT ON keeps the chunk's last row of a (model, key): ON CONFLICT may touch a row once.
        await client.query(
          `INSERT INTO ${t.predictions} (model, key, version, outputs, job_id, created_at)
           SELECT DISTINCT ON (model, key) model, key, version, outputs, job_id, created_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::bigint[]) WITH ORDINALITY
             AS u(model, key, version, outputs, job_id, created_at, n)
           ORDER BY model, key, n DESC
           ON CONFLICT (model, key) DO UPDATE SET version = excluded.version, outputs = excluded.outputs, job_id = excluded.job_id, created_at = excluded.created_at`,
          [models, keys, versions, outputs, jobIds, times],
        );
      }
      await client.query(
        `INSERT INTO ${t.chunks} (job_id, chunk_index, rows, committed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (job_id, chunk_index) DO UPDATE SET rows = excluded.rows, committed_at = excluded.committed_at`,
        [jobId, chunkIndex, n, Date.now()],
      );
    });
  }

  async committedChunks(jobId: string): Promise<Set<number>> {
    const result = await this.pool.query<{ chunk_index: number }>(`SELECT chunk_index FROM ${this.tables.chunks} WHERE job_id = $1`, [jobId]);
    return new Set(result.rows.map((r) => r.chunk_index));
  }

  async lookup(model: string, keys: readonly string[]): Promise<Map<string, StoredPrediction>> {
    const found = new Map<string, StoredPrediction>();
    if (keys.length === 0) return found;
    const result = await this.pool.query<PredictionRow>(
      `SELECT key, version, outputs, job_id, created_at FROM ${this.tables.predictions} WHERE model = $1 AND key = ANY($2::text[])`,
      [model, keys],
    );
    for (const row of result.rows) {
      found.set(row.key, { model, key: row.key, version: row.version, outputs: row.outputs, jobId: row.job_id, createdAtMs: Number(row.created_at) });
    }
    return found;
  }

  async saveJob(record: BatchJobRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.tables.jobs} (id, name, created_at, record) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at, record = excluded.record`,
      [record.id, record.name, record.createdAtMs, JSON.stringify(record)],
    );
  }

  async getJob(id: string): Promise<BatchJobRecord | undefined> {
    const result = await this.pool.query<{ record: BatchJobRecord }>(`SELECT record FROM ${this.tables.jobs} WHERE id = $1`, [id]);
    return result.rows[0]?.record;
  }

  async listJobs(options: { limit?: number; name?: string } = {}): Promise<BatchJobRecord[]> {
    const result = await this.pool.query<{ record: BatchJobRecord }>(
      `SELECT record FROM ${this.tables.jobs} WHERE ($1::text IS NULL OR name = $1) ORDER BY created_at DESC, id DESC LIMIT $2`,
      [options.name ?? null, options.limit ?? null],
    );
    return result.rows.map((r) => r.record);
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

async function transaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (err) {
    failure = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A client whose query failed (a timeout leaves it mid-query) is closed, not returned to the pool.
    client.release(failure);
  }
}
