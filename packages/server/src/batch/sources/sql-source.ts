// A SQL query's result rows: SQLite through better-sqlite3's iterate() (one row at a time, on a
// read-only connection), PostgreSQL through a cursor (pg-cursor) fetching one chunk per round
// trip. The query must order its rows (ORDER BY) for chunk N to be the same rows on every read.
import Database from 'better-sqlite3';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { SibylError } from '@sibyl/protocol';
import type { BatchSource, SourceChunk, SourceRow } from '../source.ts';
import { chunkRowStream } from './row-chunker.ts';

export class SqliteQuerySource implements BatchSource {
  private db: Database.Database | undefined;

  private constructor(
    private readonly file: string,
    private readonly query: string,
  ) {}

  static create(file: string, query: string): SqliteQuerySource {
    return new SqliteQuerySource(file, query);
  }

  private statement(): Database.Statement {
    try {
      this.db ??= new Database(this.file, { readonly: true, fileMustExist: true });
      return this.db.prepare(this.query);
    } catch (err) {
      throw new SibylError('BATCH_SOURCE_INVALID', `the SQLite source ${this.file} cannot run the query: ${(err as Error).message}`);
    }
  }

  async countRows(): Promise<number | undefined> {
    try {
      this.statement();
      return (this.db!.prepare(`SELECT COUNT(*) AS n FROM (${this.query})`).get() as { n: number }).n;
    } catch {
      return undefined;
    }
  }

  async *chunks(options: { chunkRows: number; skip?: ReadonlySet<number>; signal?: AbortSignal }): AsyncIterable<SourceChunk> {
    const statement = this.statement();
    if (!statement.reader) throw new SibylError('BATCH_SOURCE_INVALID', `the SQLite source's query returns no rows (it is not a SELECT): ${this.query}`);
    yield* chunkRowStream(statement.iterate() as Iterable<SourceRow>, options, 1);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

export class PostgresQuerySource implements BatchSource {
  private constructor(
    private readonly url: string,
    private readonly query: string,
  ) {}

  static create(url: string, query: string): PostgresQuerySource {
    return new PostgresQuerySource(url, query);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new SibylError('BATCH_SOURCE_INVALID', `cannot connect to the PostgreSQL source ${redact(this.url)}: ${(err as Error).message}`);
    }
    return client;
  }

  async countRows(): Promise<number | undefined> {
    const client = await this.connect();
    try {
      const result = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM (${this.query}) AS q`);
      return Number(result.rows[0]?.n);
    } catch {
      return undefined;
    } finally {
      await client.end();
    }
  }

  async *chunks(options: { chunkRows: number; skip?: ReadonlySet<number>; signal?: AbortSignal }): AsyncIterable<SourceChunk> {
    const client = await this.connect();
    const cursor = client.query(new Cursor<SourceRow>(this.query));
    const fetchRows = Math.min(options.chunkRows, 10_000);
    async function* rows(): AsyncIterable<SourceRow> {
      for (;;) {
        let batch: SourceRow[];
        try {
          batch = await cursor.read(fetchRows);
        } catch (err) {
          throw new SibylError('BATCH_SOURCE_INVALID', `the PostgreSQL source's query failed: ${(err as Error).message}`);
        }
        if (batch.length === 0) return;
        yield* batch;
      }
    }
    try {
      yield* chunkRowStream(rows(), options, 1);
    } finally {
      await cursor.close().catch(() => undefined);
      await client.end();
    }
  }

  async close(): Promise<void> {}
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}
