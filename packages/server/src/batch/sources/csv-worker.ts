// Runs the CSV scanner in a worker thread, so scanning the next chunks overlaps scoring and
// committing this one on the main thread (on the 1M-row benchmark the scan is a fifth of the
// main thread's work). The worker's code is bundled once per process with esbuild (which tsx
// brings), as the ONNX worker's is: a worker that registers tsx takes ~300 ms to start.
import { Worker } from 'node:worker_threads';
import { SibylError, isErrorReason } from '@sibyl/protocol';
import { bundledWorkerUrl } from '../../core/worker-bundle.ts';
import type { CsvScanOptions, ScannedChunk } from './csv-scanner.ts';
import type { CsvWorkerData, CsvWorkerMessage } from './csv-scan-worker.ts';

const ENTRY = new URL('./csv-scan-worker.ts', import.meta.url);
/** Chunks the worker scans ahead of the reader. */
const AHEAD = 2;

/** scanCsv in a worker thread: the same chunks, in order. The worker ends when the reader stops. */
export async function* scanCsvInWorker(file: string, options: CsvScanOptions, read: { chunkRows: number; chunkBytes?: number; skip?: ReadonlySet<number>; signal?: AbortSignal }): AsyncGenerator<ScannedChunk> {
  const data: CsvWorkerData = { file, options: { ...options }, chunkRows: read.chunkRows, ...(read.chunkBytes === undefined ? {} : { chunkBytes: read.chunkBytes }), skip: [...(read.skip ?? [])], ahead: AHEAD };
  const worker = new Worker(await bundledWorkerUrl(ENTRY), { workerData: data });
  const queue: CsvWorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (m: CsvWorkerMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (err) => {
    failure = err;
    wake?.();
  });
  worker.on('exit', () => {
    queue.push({ kind: 'end' });
    wake?.();
  });
  try {
    for (;;) {
      if (read.signal?.aborted) return;
      while (queue.length === 0 && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (failure !== undefined) throw new SibylError('INTERNAL_ERROR', `the CSV scanner's worker failed: ${failure.message}`, { cause: failure });
      const m = queue.shift()!;
      if (m.kind === 'end') return;
      if (m.kind === 'error') throw new SibylError(isErrorReason(m.reason) ? m.reason : 'INTERNAL_ERROR', m.message);
      worker.postMessage(1); // room for one more
      yield m.chunk;
    }
  } finally {
    await worker.terminate();
  }
}
