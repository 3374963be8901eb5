// The default prediction sink: a SQLite file, written and read by a worker thread (better-sqlite3
// is synchronous, so the event loop never waits for the disk).
import { Worker } from 'node:worker_threads';
import type { PredictionQuery, PredictionRecord, PredictionSink } from '../record.ts';
import type { SqliteReply, SqliteRequest, SqliteWorkerData } from './sqlite-protocol.ts';

const WORKER_URL = new URL('./sqlite-worker-entry.js', import.meta.url);

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type RequestBody = SqliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class SqliteSink implements PredictionSink {
  readonly name: string;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    path: string,
  ) {
    this.name = `sqlite:${path}`;
    worker.on('message', (reply: SqliteReply) => {
      if (!('id' in reply)) return;
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(reply.message));
    });
    worker.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`the SQLite prediction log worker for ${path} stopped`));
      this.pending.clear();
    });
  }

  /** Opens (creating if needed) the database file. @throws Error when it cannot be opened. */
  static create(path: string): Promise<SqliteSink> {
    const workerData: SqliteWorkerData = { path };
    const worker = new Worker(WORKER_URL, { workerData, name: 'sibyl prediction log (sqlite)' });
    worker.unref();
    return new Promise((resolve, reject) => {
      const onMessage = (reply: SqliteReply): void => {
        if ('id' in reply) return;
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (reply.type === 'opened') resolve(new SqliteSink(worker, path));
        else reject(new Error(reply.message));
      };
      const onError = (err: Error): void => reject(err);
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  }

  write(records: readonly PredictionRecord[]): Promise<void> {
    return this.call({ op: 'write', records }) as Promise<void>;
  }

  query(query: PredictionQuery): Promise<PredictionRecord[]> {
    return this.call({ op: 'query', query }) as Promise<PredictionRecord[]>;
  }

  deleteBefore(model: string, beforeMs: number): Promise<number> {
    return this.call({ op: 'deleteBefore', model, beforeMs }) as Promise<number>;
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      const closed = this.call({ op: 'close' }).catch(() => undefined);
      this.closing = closed.then(() => this.worker.terminate()).then(() => undefined);
    }
    return this.closing;
  }

  private call(body: RequestBody): Promise<unknown> {
    if (this.closing !== undefined) return Promise.reject(new Error(`${this.name} is closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id } as SqliteRequest);
    });
  }
}
