// Turns a stream of rows (one object per row) into the chunks of a BatchSource: `chunkRows`
// rows each, in order; the rows of skipped chunks are counted past, not kept.
import type { SourceChunk, SourceRow } from '../source.ts';

/**
 * Chunks `rows`. `firstRowNumber` is the row number of the first row (1 for query results,
 * the line of a file's first row); row i of the stream is row firstRowNumber + i.
 */
export async function* chunkRowStream(
  rows: AsyncIterable<SourceRow> | Iterable<SourceRow>,
  options: { chunkRows: number; skip?: ReadonlySet<number>; signal?: AbortSignal },
  firstRowNumber: number,
): AsyncIterable<SourceChunk> {
  const { chunkRows, skip, signal } = options;
  let index = 0;
  let taken = 0;
  let batch: SourceRow[] = [];
  let skipping = skip?.has(0) === true;
  for await (const row of rows) {
    if (signal?.aborted) return;
    if (!skipping) batch.push(row);
    if (++taken === chunkRows) {
      if (!skipping) yield { index, rows: batch, firstRowNumber: firstRowNumber + index * chunkRows };
      batch = [];
      taken = 0;
      index++;
      skipping = skip?.has(index) === true;
    }
  }
  if (taken > 0 && !skipping && !signal?.aborted) yield { index, rows: batch, firstRowNumber: firstRowNumber + index * chunkRows };
}
