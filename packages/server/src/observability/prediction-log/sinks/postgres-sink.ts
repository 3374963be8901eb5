// A prediction sink in PostgreSQL (pg): one table, records as JSONB, indexed by model and time.
// Created if missing. Writes are multi-row INSERTs in one round trip per 1000 records.
import pg from 'pg';
import type { PredictionQuery, PredictionRecord, PredictionSink } from '../record.ts';

const ROWS_PER_INSERT = 1000;

export class PostgresSink implements PredictionSink {
  readonly name: string;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
  ) {
    this.name = `postgres:${table}`;
  }

  /**
   * Connects and creates the table if needed. `table` must be a plain identifier (the config
   * schema checks it). `url` '' uses the PG* environment variables.
   * @throws Error when the server cannot be reached or the table cannot be created.
   */
  static async create(url: string, table: string): Promise<PostgresSink> {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) throw new Error(`prediction log table '${table}' is not a plain SQL identifier`);
    const pool = new pg.Pool({ ...(url === '' ? {} : { connectionString: url }), max: 4, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined); // idle clients that lose their connection are replaced
    try {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
        seq BIGSERIAL PRIMARY KEY,
        time_ms BIGINT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        request_id TEXT NOT NULL,
        record JSONB NOT NULL
      )`);
      await pool.query(`CREATE INDEX IF NOT EXISTS ${table}_model_time ON ${table} (model, time_ms)`);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the PostgreSQL prediction log (table ${table}): ${(err as Error).message}`, { cause: err });
    }
    return new PostgresSink(pool, table);
  }

  async write(records: readonly PredictionRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
      const chunk = records.slice(start, start + ROWS_PER_INSERT);
      const values: unknown[] = [];
      const rows = chunk.map((r, i) => {
        values.push(r.timeMs, r.model, r.version, r.requestId, JSON.stringify(r));
        const p = i * 5;
        return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5})`;
      });
      await this.pool.query(`INSERT INTO ${this.table} (time_ms, model, version, request_id, record) VALUES ${rows.join(', ')}`, values);
    }
  }

  async query(query: PredictionQuery): Promise<PredictionRecord[]> {
    const result = await this.pool.query<{ record: PredictionRecord }>(
      `SELECT record FROM ${this.table} WHERE model = $1 AND time_ms >= $2 AND time_ms < $3 AND ($4::text IS NULL OR version = $4) ORDER BY time_ms, seq LIMIT $5`,
      [query.model, query.sinceMs, query.untilMs ?? Number.MAX_SAFE_INTEGER, query.version ?? null, query.limit],
    );
    return result.rows.map((row) => row.record);
  }

  async deleteBefore(model: string, beforeMs: number): Promise<number> {
    const result = await this.pool.query(`DELETE FROM ${this.table} WHERE model = $1 AND time_ms < $2`, [model, beforeMs]);
    return result.rowCount ?? 0;
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}
