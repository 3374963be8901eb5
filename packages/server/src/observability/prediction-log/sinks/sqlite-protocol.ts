// Messages between SqliteSink (event loop) and its worker thread, which owns the database
// connection so that better-sqlite3's synchronous calls never block the event loop.
import type { PredictionQuery, PredictionRecord } from '../record.ts';

export interface SqliteWorkerData {
  path: string;
}

export type SqliteRequest =
  | { id: number; op: 'write'; records: readonly PredictionRecord[] }
  | { id: number; op: 'query'; query: PredictionQuery }
  | { id: number; op: 'deleteBefore'; model: string; beforeMs: number }
  | { id: number; op: 'close' };

export type SqliteReply =
  | { type: 'opened' }
  | { type: 'open-failed'; message: string }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string };
