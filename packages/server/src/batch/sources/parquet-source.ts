// A Parquet file, read one row group at a time (hyparquet): memory holds a row group and the
// chunks in flight. Row groups whose rows all fall in skipped chunks are not read at all.
//
// Bounds: Parquet has no record boundaries to scan (values are read a column page at a time), so
// its limit is on the unit it is read in: a row group whose columns the job reads may hold at most
// `maxRowGroupBytes` (uncompressed, as its metadata says), and no single read of the file (the
// footer, a column chunk) may be larger.
import type { FileHandle } from 'node:fs/promises';
import { SibylError } from '@sibyl/protocol';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, FileMetaData, RowGroup } from 'hyparquet';
import type { BatchSource, ChunkOptions, SourceChunk, SourceRow } from '../source.ts';
import { DEFAULT_MAX_ROW_GROUP_BYTES, openRegularFile } from './source-limits.ts';

export class ParquetSource implements BatchSource {
  private metadata: FileMetaData | undefined;
  private handle: FileHandle | undefined;

  private constructor(
    private readonly file: string,
    private readonly columns: readonly string[] | undefined,
    private readonly maxRowGroupBytes: number,
  ) {}

  /** `columns`: the columns the job reads (default: all). `maxRowGroupBytes`: default DEFAULT_MAX_ROW_GROUP_BYTES. */
  static create(file: string, columns?: readonly string[], options: { maxRowGroupBytes?: number } = {}): ParquetSource {
    return new ParquetSource(file, columns, options.maxRowGroupBytes ?? DEFAULT_MAX_ROW_GROUP_BYTES);
  }

  private async open(): Promise<{ buffer: AsyncBuffer; metadata: FileMetaData }> {
    this.handle ??= await openRegularFile(this.file, 'the Parquet source');
    const buffer = boundedFileBuffer(this.handle, (await this.handle.stat()).size, this.maxRowGroupBytes, this.file);
    try {
      this.metadata ??= await parquetMetadataAsync(buffer);
    } catch (err) {
      if (err instanceof SibylError) throw err;
      throw new SibylError('BATCH_SOURCE_INVALID', `${this.file} is not a Parquet file: ${(err as Error).message}`);
    }
    return { buffer, metadata: this.metadata };
  }

  async countRows(): Promise<number> {
    return Number((await this.open()).metadata.num_rows);
  }

  /** @throws SibylError when the columns the job reads of row group `i` are over maxRowGroupBytes. */
  private checkRowGroup(group: RowGroup, i: number, columns: readonly string[] | undefined): void {
    let bytes = 0n;
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (meta === undefined || (columns !== undefined && !columns.includes(meta.path_in_schema[0]!))) continue;
      bytes += BigInt(meta.total_uncompressed_size);
    }
    if (bytes > BigInt(this.maxRowGroupBytes)) {
      throw new SibylError(
        'BATCH_SOURCE_INVALID',
        `${this.file}: row group ${i} (${group.num_rows} rows) holds ${bytes} bytes of the columns the job reads, more than maxRowGroupBytes (${this.maxRowGroupBytes} bytes); raise maxRowGroupBytes in the job spec, or write the file with smaller row groups`,
      );
    }
  }

  /**
   * By rows only (chunkBytes is ignored): skipping a committed chunk's row groups without reading
   * them needs chunk N to start at row N × chunkRows, and a row group, bounded by
   * maxRowGroupBytes, is read whole anyway.
   */
  async *chunks(options: ChunkOptions): AsyncIterable<SourceChunk> {
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
    for (const [groupIndex, group] of metadata.row_groups.entries()) {
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
      this.checkRowGroup(group, groupIndex, columns);
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

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.metadata = undefined;
    await handle?.close();
  }
}

/** The file as hyparquet's AsyncBuffer, read through `handle`; a read of more than `maxBytes` is refused. */
function boundedFileBuffer(handle: FileHandle, size: number, maxBytes: number, file: string): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const length = Math.max(0, stop - start);
      if (length > maxBytes) {
        throw new SibylError('BATCH_SOURCE_INVALID', `${file}: a read of ${length} bytes (at offset ${start}) is larger than maxRowGroupBytes (${maxBytes} bytes); raise maxRowGroupBytes in the job spec, or check the file is Parquet`);
      }
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? out.buffer : out.buffer.slice(0, done);
    },
  };
}
