// Commits a job's chunks to its SQLite prediction store from a worker thread: the insert of a
// chunk's rows (the largest part of a CSV job's main-thread time on the 1M-row benchmark) then
// overlaps reading, mapping and scoring the next chunks. The worker's code is bundled once per
// process with esbuild, better-sqlite3 (a native addon) left outside the bundle.
import { Worker } from 'node:worker_threads';
import { SibylError } from '@sibyl/protocol';
import { bundledWorkerUrl } from '../core/worker-bundle.ts';
import type { ColumnarPredictions } from './columnar-predictions.ts';
import type { CommitReply, CommitRequest } from './sqlite-commit-worker.ts';

const ENTRY = new URL('./sqlite-commit-worker.ts', import.meta.url);

export class SqliteCommitThread {
  private next = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: CommitReply | 'ready') => {
      if (m === 'ready') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error === undefined) p?.resolve();
      else p?.reject(new SibylError('INTERNAL_ERROR', `committing to the prediction store failed: ${m.error}`));
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const p of this.pending.values()) p.reject(new SibylError('INTERNAL_ERROR', `the prediction store's commit thread stopped: ${err.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  /** Starts the thread on the store file (which the caller has opened already, so it exists with its tables). */
  static async start(file: string): Promise<SqliteCommitThread> {
    const worker = new Worker(await bundledWorkerUrl(ENTRY, ['better-sqlite3']), { workerData: { file } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new SqliteCommitThread(worker);
  }

  /** Commits one chunk (its rows and its mark, in one transaction); resolves once durable. */
  commit(chunkIndex: number, predictions: ColumnarPredictions): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new SibylError('INTERNAL_ERROR', `the prediction store's commit thread stopped: ${this.failure.message}`));
    const id = this.next++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, chunkIndex, predictions } satisfies CommitRequest);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await exited;
  }
}
