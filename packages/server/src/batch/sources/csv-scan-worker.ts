// Worker thread entry of the CSV scanner: scans the file it is given and posts each chunk (the
// numbers' buffers transferred, not copied), at most `ahead` chunks before the reader asks for
// more, so memory stays bounded when scoring is slower than scanning.
import { parentPort, workerData } from 'node:worker_threads';
import { SibylError } from '@sibyl/protocol';
import { scanCsv, type CsvScanOptions, type ScannedChunk } from './csv-scanner.ts';

export interface CsvWorkerData {
  file: string;
  options: CsvScanOptions;
  chunkRows: number;
  chunkBytes?: number;
  skip: number[];
  ahead: number;
}

/** Worker → reader. */
export type CsvWorkerMessage =
  | { kind: 'chunk'; chunk: ScannedChunk }
  | { kind: 'end' }
  | { kind: 'error'; reason: string; message: string };

const data = workerData as CsvWorkerData;
const port = parentPort!;
let credit = data.ahead;
let wake: (() => void) | undefined;
port.on('message', () => {
  credit++;
  wake?.();
});

try {
  for await (const chunk of scanCsv(data.file, data.options, { chunkRows: data.chunkRows, ...(data.chunkBytes === undefined ? {} : { chunkBytes: data.chunkBytes }), skip: new Set(data.skip) })) {
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    credit--;
    port.postMessage({ kind: 'chunk', chunk } satisfies CsvWorkerMessage, chunk.numbers.map((n) => n.buffer as ArrayBuffer));
  }
  port.postMessage({ kind: 'end' } satisfies CsvWorkerMessage);
} catch (err) {
  port.postMessage({ kind: 'error', reason: err instanceof SibylError ? err.reason : 'INTERNAL_ERROR', message: (err as Error).message } satisfies CsvWorkerMessage);
}
port.close();
