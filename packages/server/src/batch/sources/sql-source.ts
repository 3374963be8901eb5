// A SQL query's result rows: SQLite through better-sqlite3's iterate() (one row at a time, on a
// read-only connection), PostgreSQL through a cursor (pg-cursor) fetching one chunk per round
// trip. The query must order its rows (ORDER BY) for chunk N to be the same rows on every read.
//
// Bounds: a row over maxRecordBytes fails the job (the database hands over whole rows, so it is
// checked as each arrives). PostgreSQL: the connection and its handshake must finish within
// connectTimeoutMs and each round trip of the query within queryTimeoutMs, and an abort (cancel,
// shutdown) closes the socket at once — a server that accepts and never answers cannot hold a
// job, its cancel or the server's shutdown.
import Database from 'better-sqlite3';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { SibylError } from '@sibyl/protocol';
import type { BatchSource, ChunkOptions, SourceChunk, SourceRow } from '../source.ts';
import { redactUrl } from '../redact-url.ts';
import { rowBytes } from './row-size.ts';
import { chunkRowStream } from './row-chunker.ts';
import { DEFAULT_MAX_RECORD_BYTES, recordTooLarge, refuseSpecialFile } from './source-limits.ts';

/** Default of a PostgreSQL source's connectTimeoutMs: the TCP connection and the protocol's handshake. */
export const DEFAULT_SQL_CONNECT_TIMEOUT_MS = 10_000;
/** Default of a PostgreSQL source's queryTimeoutMs: one round trip (the first includes planning and sorting). */
export const DEFAULT_SQL_QUERY_TIMEOUT_MS = 300_000;

/**
 * The rows, each checked against the record limit (`source` names the source in errors), and
 * `bytesOf` for chunkRowStream: the size measured for that check, of the row last yielded, so a
 * row is walked once for both bounds (an accepted row's size is exact: it is within the limit).
 */
function limitedRows(rows: AsyncIterable<SourceRow> | Iterable<SourceRow>, maxRecordBytes: number, source: string): { rows: AsyncIterable<SourceRow>; bytesOf: () => number } {
  let lastBytes = 0;
  async function* checked(): AsyncIterable<SourceRow> {
    let n = 0;
    for await (const row of rows) {
      n++;
      lastBytes = rowBytes(row, maxRecordBytes);
      if (lastBytes > maxRecordBytes) throw recordTooLarge(source, `row ${n} of the query`, maxRecordBytes);
      yield row;
    }
  }
  return { rows: checked(), bytesOf: () => lastBytes };
}

/** chunkRowStream over limitedRows. */
function limitedChunks(rows: AsyncIterable<SourceRow> | Iterable<SourceRow>, maxRecordBytes: number, source: string, options: ChunkOptions): AsyncIterable<SourceChunk> {
  const limited = limitedRows(rows, maxRecordBytes, source);
  return chunkRowStream(limited.rows, options, 1, limited.bytesOf);
}

export class SqliteQuerySource implements BatchSource {
  private db: Database.Database | undefined;

  private constructor(
    private readonly file: string,
    private readonly query: string,
    private readonly maxRecordBytes: number,
    /** The server's connection this is (a job sent over the API): errors name it, not the file. */
    private readonly connection: string | undefined,
  ) {}

  static create(file: string, query: string, options: { maxRecordBytes?: number; connection?: string } = {}): SqliteQuerySource {
    return new SqliteQuerySource(file, query, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, options.connection);
  }

  private get label(): string {
    return this.connection === undefined ? `the SQLite source ${this.file}` : `connection ${JSON.stringify(this.connection)}`;
  }

  private statement(): Database.Statement {
    // SQLite opening a FIFO would block this thread: refused first.
    if (this.db === undefined) refuseSpecialFile(this.file, this.connection === undefined ? 'the SQLite source' : `the file of connection ${JSON.stringify(this.connection)}`);
    try {
      if (this.db === undefined) {
        this.db = new Database(this.file, { readonly: true, fileMustExist: true });
        // Read-only twice over: the connection, and the pragma that refuses any write statement.
        this.db.pragma('query_only = ON');
      }
      return this.db.prepare(this.query);
    } catch (err) {
      throw new SibylError('BATCH_SOURCE_INVALID', `${this.label} cannot run the query: ${(err as Error).message}`);
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

  async *chunks(options: ChunkOptions): AsyncIterable<SourceChunk> {
    const statement = this.statement();
    if (!statement.reader) throw new SibylError('BATCH_SOURCE_INVALID', `the SQLite source's query returns no rows (it is not a SELECT): ${this.query}`);
    yield* limitedChunks(statement.iterate() as Iterable<SourceRow>, this.maxRecordBytes, this.label, options);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

export interface PostgresQuerySourceOptions {
  /** The TCP connection and the handshake, until the server is ready for queries. Default DEFAULT_SQL_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Each round trip of the query (a fetch of rows; the first includes planning and sorting). Default DEFAULT_SQL_QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number;
  maxRecordBytes?: number;
  /**
   * The name of the server's connection this source is (a job sent over the API): errors name it
   * instead of the URL, and a failed connection says only that it failed — whether a port is
   * closed, filtered or not PostgreSQL is not the caller's to learn (SSRF probing).
   */
  connection?: string;
}

export class PostgresQuerySource implements BatchSource {
  private readonly connectTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly maxRecordBytes: number;
  private readonly connection: string | undefined;
  /** Why countRows could not connect: chunks() fails with it at once rather than wait again. */
  private connectFailure: SibylError | undefined;

  private constructor(
    private readonly url: string,
    private readonly query: string,
    options: PostgresQuerySourceOptions,
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_SQL_CONNECT_TIMEOUT_MS;
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_SQL_QUERY_TIMEOUT_MS;
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.connection = options.connection;
  }

  /** How errors name this source. */
  private get label(): string {
    return this.connection === undefined ? `the PostgreSQL source ${redactUrl(this.url)}` : `connection ${JSON.stringify(this.connection)}`;
  }

  static create(url: string, query: string, options: PostgresQuerySourceOptions = {}): PostgresQuerySource {
    return new PostgresQuerySource(url, query, options);
  }

  /** @throws SibylError BATCH_SOURCE_INVALID when the server refuses, or does not finish the handshake within connectTimeoutMs; REQUEST_CANCELLED when the signal aborts. */
  private async connect(signal: AbortSignal | undefined): Promise<pg.Client> {
    // The bound is ours (bounded() below), so its message names the option; pg's own is a backstop.
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs + 1000 });
    client.on('error', () => undefined); // a connection lost later fails the query that waits on it
    try {
      await bounded(client.connect(), client, this.connectTimeoutMs, signal, () => `no answer to the connection and handshake within connectTimeoutMs (${this.connectTimeoutMs} ms); is it a PostgreSQL server?`);
    } catch (err) {
      destroy(client);
      if (err instanceof SibylError && err.reason === 'REQUEST_CANCELLED') throw err;
      if (this.connection !== undefined) throw new SibylError('BATCH_SOURCE_INVALID', `cannot connect to ${this.label}; the server's operator can check it (sandbox.connections in sibyl.yaml)`);
      throw new SibylError('BATCH_SOURCE_INVALID', `cannot connect to ${this.label}: ${(err as Error).message}`);
    }
    // Every query of the source runs in a read-only transaction: a query that writes (DELETE …
    // RETURNING, a data-modifying WITH) fails. One snapshot for the whole read, as a bonus.
    try {
      await bounded(client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'), client, this.connectTimeoutMs, signal, () => 'no answer to BEGIN READ ONLY');
    } catch (err) {
      destroy(client);
      if (err instanceof SibylError && err.reason === 'REQUEST_CANCELLED') throw err;
      throw new SibylError('BATCH_SOURCE_INVALID', `${this.label} could not start a read-only transaction: ${(err as Error).message}`);
    }
    return client;
  }

  async countRows(signal?: AbortSignal): Promise<number | undefined> {
    let client: pg.Client | undefined;
    try {
      try {
        client = await this.connect(signal);
      } catch (err) {
        if (err instanceof SibylError && err.reason === 'BATCH_SOURCE_INVALID') this.connectFailure = err;
        throw err;
      }
      const result = await bounded(client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM (${this.query}) AS q`), client, this.queryTimeoutMs, signal, () => 'timeout');
      return Number(result.rows[0]?.n);
    } catch {
      return undefined;
    } finally {
      if (client !== undefined) await closeClient(client);
    }
  }

  async *chunks(options: ChunkOptions): AsyncIterable<SourceChunk> {
    const { signal } = options;
    if (this.connectFailure !== undefined) throw this.connectFailure;
    const client = await this.connect(signal);
    const cursor = client.query(new Cursor<SourceRow>(this.query));
    const fetchRows = Math.min(options.chunkRows, 10_000);
    const timeoutMs = this.queryTimeoutMs;
    const label = this.label;
    const failed = this.connection === undefined ? "the PostgreSQL source's query failed" : `the query of ${label} failed`;
    async function* rows(): AsyncIterable<SourceRow> {
      for (;;) {
        let batch: SourceRow[];
        try {
          batch = await bounded(cursor.read(fetchRows), client, timeoutMs, signal, () => `no answer within queryTimeoutMs (${timeoutMs} ms)`);
        } catch (err) {
          if (err instanceof SibylError && err.reason === 'REQUEST_CANCELLED') throw err;
          throw new SibylError('BATCH_SOURCE_INVALID', `${failed}: ${(err as Error).message}`);
        }
        if (batch.length === 0) return;
        yield* batch;
      }
    }
    try {
      yield* limitedChunks(rows(), this.maxRecordBytes, label, options);
    } finally {
      if (!client.connection.stream.destroyed) await bounded(cursor.close(), client, 1000, undefined, () => 'timeout').catch(() => undefined);
      await closeClient(client);
    }
  }

  async close(): Promise<void> {}
}

/** Closes the socket at once (pg's end() waits for the server, which may never answer). */
function destroy(client: pg.Client): void {
  client.connection.stream.destroy();
}

/** Ends the connection politely, or destroys it when the server does not let go within a second. */
async function closeClient(client: pg.Client): Promise<void> {
  if (client.connection.stream.destroyed) return;
  await bounded(client.end(), client, 1000, undefined, () => 'timeout').catch(() => destroy(client));
}

/**
 * `work` on `client`, unless `timeoutMs` passes first (rejects with an Error of `timedOut()`'s
 * text) or the signal aborts (rejects with REQUEST_CANCELLED); either way the client's socket
 * is destroyed, so whatever waited on it fails too and nothing is left pending.
 */
function bounded<T>(work: Promise<T>, client: pg.Client, timeoutMs: number, signal: AbortSignal | undefined, timedOut: () => string): Promise<T> {
  work.catch(() => undefined); // settled through the race below; its late rejection is expected
  return new Promise<T>((resolve, reject) => {
    const stop = (err: Error): void => {
      cleanup();
      destroy(client);
      reject(err);
    };
    const onAbort = (): void => stop(new SibylError('REQUEST_CANCELLED', 'the job was cancelled while it waited for the PostgreSQL source'));
    const timer = setTimeout(() => stop(new Error(timedOut())), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err as Error);
      },
    );
  });
}

