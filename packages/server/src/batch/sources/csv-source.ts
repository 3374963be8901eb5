// A CSV file with a header row, read in blocks so that memory holds a block and the chunks in
// flight, whatever the file's size. The scanning (csv-scanner.ts) runs in a worker thread for
// files of some size, in this thread for small ones.
//
// Why not csv-parse: on the 33-column benchmark file it reads 70k rows/s with `columns: true`
// (150k with arrays), while onnxruntime scores the same model at 1.4M rows/s; an object and 33
// strings per row cost more than the model. The scanner parses the fields the job needs straight
// from the bytes into numbers (or text); chunks carry `columns`, and `rows` is built only when
// read.
import type { BatchSource, ChunkColumns, ChunkOptions, ColumnValues, SourceChunk } from '../source.ts';
import { columnarChunk } from '../chunk-row.ts';
import { scanCsv, type CsvScanOptions, type ScannedChunk } from './csv-scanner.ts';
import { scanCsvInWorker } from './csv-worker.ts';
import { openRegularFile } from './source-limits.ts';

/** Files at least this large are scanned in a worker thread (its start-up is not worth it for small ones). */
const WORKER_BYTES = 16 * 1024 * 1024;

export interface CsvSourceOptions extends CsvScanOptions {
  /** Where to scan: 'auto' (a worker for files of 16 MiB or more), 'worker' or 'thread'. Default 'auto'. */
  scanIn?: 'auto' | 'worker' | 'thread';
}

export class CsvSource implements BatchSource {
  private constructor(
    private readonly file: string,
    private readonly options: CsvSourceOptions,
  ) {}

  static create(file: string, options: CsvSourceOptions = {}): CsvSource {
    return new CsvSource(file, options);
  }

  async *chunks(options: ChunkOptions): AsyncIterable<SourceChunk> {
    // A device, FIFO or directory is refused here, before a worker starts.
    const handle = await openRegularFile(this.file, 'the CSV source');
    const { size } = await handle.stat().finally(() => handle.close());
    const where = this.options.scanIn ?? 'auto';
    const inWorker = where === 'worker' || (where === 'auto' && size >= WORKER_BYTES);
    const scan = { columns: this.options.columns, textColumns: this.options.textColumns, ...(this.options.maxRecordBytes === undefined ? {} : { maxRecordBytes: this.options.maxRecordBytes }) };
    const scanned = inWorker ? scanCsvInWorker(this.file, scan, options) : scanCsv(this.file, scan, options);
    for await (const chunk of scanned) yield columnarChunk(chunk.index, chunk.firstRowNumber, new ScannedColumns(chunk));
  }

  /**
   * An estimate, for the ETA: the file's size over the average length of the lines in its first
   * MiB (exact for files that small). Undefined when the file cannot be read (or is not a regular file).
   */
  async countRows(): Promise<number | undefined> {
    try {
      const handle = await openRegularFile(this.file, 'the CSV source');
      try {
        const { size } = await handle.stat();
        const sample = Buffer.alloc(Math.min(size, 1024 * 1024));
        const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
        let lines = 0;
        let headerEnd = -1;
        for (let i = 0; i < bytesRead; i++) {
          if (sample[i] !== 10) continue;
          if (headerEnd < 0) headerEnd = i + 1;
          else lines++;
        }
        if (headerEnd < 0) return 0;
        if (bytesRead === size) return lines + (sample[bytesRead - 1] === 10 || bytesRead === headerEnd ? 0 : 1);
        return lines === 0 ? undefined : Math.round(((size - headerEnd) * lines) / (bytesRead - headerEnd));
      } finally {
        await handle.close();
      }
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {}
}

const NO_TEXTS: readonly (string | undefined)[] = Object.freeze([]);

/** A scanned chunk's columns as ChunkColumns. */
class ScannedColumns implements ChunkColumns {
  readonly rowCount: number;
  readonly names: readonly string[];
  private readonly views: Map<string, ColumnValues>;

  constructor(chunk: ScannedChunk) {
    this.rowCount = chunk.rowCount;
    this.names = chunk.names;
    this.views = new Map(chunk.names.map((name, i) => [name, { numbers: chunk.numbers[i]!, texts: chunk.texts[i] ?? NO_TEXTS }]));
  }

  get(name: string): ColumnValues | undefined {
    return this.views.get(name);
  }
}

