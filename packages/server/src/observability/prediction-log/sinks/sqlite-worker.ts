// The SQLite sink's worker thread: one better-sqlite3 connection (WAL journal), one table of
// records, statements prepared once. Answers SqliteRequest messages in order.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PredictionQuery, PredictionRecord } from '../record.ts';
import type { SqliteReply, SqliteRequest, SqliteWorkerData } from './sqlite-protocol.ts';

const port = parentPort!;
const { path } = workerData as SqliteWorkerData;
const send = (reply: SqliteReply): void => port.postMessage(reply);

let db: Database.Database;
try {
  db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Retention deletes overwrite the freed pages: an expired record leaves nothing on disk.
  db.pragma('secure_delete = ON');
  db.exec(`CREATE TABLE IF NOT EXISTS predictions (
    seq INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    request_id TEXT NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS predictions_model_time ON predictions (model, time_ms);`);
} catch (err) {
  send({ type: 'open-failed', message: `cannot open the SQLite prediction log ${path}: ${(err as Error).message}` });
  process.exit(0);
}

const insert = db.prepare('INSERT INTO predictions (time_ms, model, version, request_id, record) VALUES (?, ?, ?, ?, ?)');
const writeAll = db.transaction((records: readonly PredictionRecord[]) => {
  for (const r of records) insert.run(r.timeMs, r.model, r.version, r.requestId, JSON.stringify(r));
});
const select = db.prepare(
  'SELECT record FROM predictions WHERE model = @model AND time_ms >= @since AND time_ms < @until AND (@version IS NULL OR version = @version) ORDER BY time_ms, seq LIMIT @limit',
);
const remove = db.prepare('DELETE FROM predictions WHERE model = ? AND time_ms < ?');

function handle(request: SqliteRequest): unknown {
  switch (request.op) {
    case 'write':
      writeAll(request.records);
      return null;
    case 'query': {
      const q: PredictionQuery = request.query;
      const rows = select.all({ model: q.model, since: q.sinceMs, until: q.untilMs ?? Number.MAX_SAFE_INTEGER, version: q.version ?? null, limit: q.limit }) as { record: string }[];
      return rows.map((row) => JSON.parse(row.record) as PredictionRecord);
    }
    case 'deleteBefore':
      return remove.run(request.model, request.beforeMs).changes;
    case 'close':
      db.close();
      return null;
  }
}

port.on('message', (request: SqliteRequest) => {
  try {
    send({ id: request.id, ok: true, result: handle(request) });
  } catch (err) {
    send({ id: request.id, ok: false, message: (err as Error).message });
  }
  if (request.op === 'close') port.close();
});
send({ type: 'opened' });
