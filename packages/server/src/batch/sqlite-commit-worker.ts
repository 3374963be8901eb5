// Worker thread entry: commits chunks to a SQLite prediction store (its own connection to the
// file; WAL lets the main thread's connection read and write job records beside it). Requests
// carry a chunk's predictions column by column; the per-row predictions are built here.
import { parentPort, workerData } from 'node:worker_threads';
import { toStoredPredictions, type ColumnarPredictions } from './columnar-predictions.ts';
import { SqlitePredictionStore } from './sqlite-prediction-store.ts';

export interface CommitRequest {
  id: number;
  chunkIndex: number;
  predictions: ColumnarPredictions;
}

export type CommitReply = { id: number; error?: string };

const port = parentPort!;
const store = await SqlitePredictionStore.open((workerData as { file: string }).file);
port.on('message', (m: CommitRequest | 'close') => {
  if (m === 'close') {
    void store.close().then(() => port.close());
    return;
  }
  store.commitChunk(m.predictions.jobId, m.chunkIndex, toStoredPredictions(m.predictions)).then(
    () => port.postMessage({ id: m.id } satisfies CommitReply),
    (err: unknown) => port.postMessage({ id: m.id, error: (err as Error).message } satisfies CommitReply),
  );
});
port.postMessage('ready');
