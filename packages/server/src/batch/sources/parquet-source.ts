// A Parquet file, read one row group at a time (hyparquet): memory holds a row group and the
// chunks in flight. Row groups whose rows all fall in skipped chunks are not read at all.
import { stat } from 'node:fs/promises';
import { SibylError } from '@sibyl/protocol';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import type { BatchSource, SourceChunk, SourceRow } from '../source.ts';

export class ParquetSource implements BatchSource {
  private metadata: FileMetaData | undefined;

  private constructor(
    private readonly file: string,
    private readonly columns: readonly string[] | undefined,
  ) {}

  /** `columns`: the columns the job reads (default: all). */
  static create(file: string, columns?: readonly string[]): ParquetSource {
    return new ParquetSource(file, columns);
  }

  private async open(): Promise<{ buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>; metadata: FileMetaData }> {
    try {
      await stat(this.file);
    } catch (err) {
      throw new SibylError('BATCH_SOURCE_INVALID', `cannot read the Parquet source ${this.file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
    }
    const buffer = await asyncBufferFromFile(this.file);
    try {
      this.metadata ??= await parquetMetadataAsync(buffer);
    } catch (err) {
      throw new SibylError('BATCH_SOURCE_INVALID', `${this.file} is not a Parquet file: ${(err as Error).message}`);
    }
    return { buffer, metadata: this.metadata };
  }

  async countRows(): Promise<number> {
    return Number((await this.open()).metadata.num_rows);
  }

  async *chunks(options: { chunkRows: number; skip?: ReadonlySet<number>; signal?: AbortSignal }): AsyncIterable<SourceChunk> {
    const { buffer, metadata } = await this.open();
    const { chunkRows, skip, signal } = options;
    const names = metadata.schema.slice(1).map((s) => s.name);
    const missing = (this.columns ?? []).filter((c) => !names.includes(c));
    if (missing.length > 0) {
      throw new SibylError('BATCH_SOURCE_INVALID', `${this.file} has no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `'${c}'`).join(', ')}; its columns are ${names.map((c) => `'${c}'`).join(', ')}`);
    }
    const columns = this.columns === undefined ? undefined : [...new Set(this.columns)];
    let pending: SourceRow[] = [];
    /** Row number (0-based) of pending[0]. */
    let pendingStart = 0;
    let groupStart = 0;
    for (const group of metadata.row_groups) {
      if (signal?.aborted) return;
      const groupEnd = groupStart + Number(group.num_rows);
      const firstChunk = Math.floor(groupStart / chunkRows);
      const lastChunk = Math.floor((groupEnd - 1) / chunkRows);
      let needed = false;
      for (let c = firstChunk; c <= lastChunk && !needed; c++) needed = skip?.has(c) !== true;
      if (!needed) {
        groupStart = groupEnd;
        pending = [];
        pendingStart = groupEnd;
        continue;
      }
      const rows = (await parquetReadObjects({ file: buffer, metadata, rowStart: groupStart, rowEnd: groupEnd, ...(columns === undefined ? {} : { columns }) })) as SourceRow[];
      if (pendingStart + pending.length !== groupStart) {
        pending = [];
        pendingStart = groupStart;
      }
      pending = pending.length === 0 ? rows : pending.concat(rows);
      // Emit every complete chunk that pending holds.
      for (;;) {
        const index = Math.floor(pendingStart / chunkRows);
        const chunkStart = index * chunkRows;
        const chunkEnd = chunkStart + chunkRows;
        if (pendingStart + pending.length < chunkEnd) break;
        const offset = chunkStart - pendingStart; // ≤ 0 only if pending starts mid-chunk after a skip
        if (offset >= 0 && skip?.has(index) !== true) yield { index, rows: pending.slice(offset, offset + chunkRows), firstRowNumber: chunkStart + 1 };
        pending = pending.slice(chunkEnd - pendingStart);
        pendingStart = chunkEnd;
      }
      groupStart = groupEnd;
    }
    if (pending.length > 0 && !signal?.aborted) {
      const index = Math.floor(pendingStart / chunkRows);
      if (pendingStart === index * chunkRows && skip?.has(index) !== true) yield { index, rows: pending, firstRowNumber: pendingStart + 1 };
    }
  }

  async close(): Promise<void> {}
}
