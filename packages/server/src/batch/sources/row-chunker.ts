// Turns a stream of rows (one object per row) into the chunks of a BatchSource: `chunkRows`
// rows each, or fewer when their bytes reach `chunkBytes` first, in order; the rows of skipped
// chunks are counted past, not kept. The cut depends only on the rows, so it is the same on every
// read (resume skips committed chunks by index).
import type { ChunkOptions, SourceChunk, SourceRow } from '../source.ts';
import { rowBytes } from './row-size.ts';

/**
 * Chunks `rows`. `firstRowNumber` is the row number of the first row (1 for query results,
 * the line of a file's first row); row i of the stream is row firstRowNumber + i. `bytesOf`
 * sizes a row for `chunkBytes` (default: rowBytes).
 */
export async function* chunkRowStream(
  rows: AsyncIterable<SourceRow> | Iterable<SourceRow>,
  options: ChunkOptions,
  firstRowNumber: number,
  bytesOf: (row: SourceRow, limit: number) => number = rowBytes,
): AsyncIterable<SourceChunk> {
  const { chunkRows, skip, signal } = options;
  const chunkBytes = options.chunkBytes ?? Number.POSITIVE_INFINITY;
  let index = 0;
  let taken = 0;
  let bytes = 0;
  /** Rows before the current chunk. */
  let before = 0;
  let batch: SourceRow[] = [];
  let skipping = skip?.has(0) === true;
  for await (const row of rows) {
    if (signal?.aborted) return;
    if (!skipping) batch.push(row);
    taken++;
    if (chunkBytes !== Number.POSITIVE_INFINITY) bytes += bytesOf(row, chunkBytes);
    if (taken === chunkRows || bytes >= chunkBytes) {
      if (!skipping) yield { index, rows: batch, firstRowNumber: firstRowNumber + before };
      before += taken;
      batch = [];
      taken = 0;
      bytes = 0;
      index++;
      skipping = skip?.has(index) === true;
    }
  }
  if (taken > 0 && !skipping && !signal?.aborted) yield { index, rows: batch, firstRowNumber: firstRowNumber + before };
}
