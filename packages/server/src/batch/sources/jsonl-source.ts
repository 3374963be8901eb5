// A JSON Lines file: one JSON object per line (blank lines are skipped), streamed line by line.
// Values stay JSON values, as the online V2 JSON path sees them; integers beyond 2^53 are exact
// (bigint), parsed losslessly like the online path does when it must.
// A line longer than maxRecordBytes fails the job (see source-limits.ts).
import { parseJsonExact } from '@sibyl/protocol';
import type { BatchSource, ChunkOptions, SourceChunk, SourceRow } from '../source.ts';
import { readLines } from './line-reader.ts';
import { chunkRowStream } from './row-chunker.ts';
import { DEFAULT_MAX_RECORD_BYTES, openRegularFile, recordTooLarge } from './source-limits.ts';

// A digit run long enough to be beyond 2^53 needs the exact parser.
const LONG_INTEGER = /\d{16,}/;

export class JsonlSource implements BatchSource {
  private constructor(
    private readonly file: string,
    private readonly maxRecordBytes: number,
  ) {}

  /** `maxRecordBytes`: the longest line accepted (default DEFAULT_MAX_RECORD_BYTES). */
  static create(file: string, options: { maxRecordBytes?: number } = {}): JsonlSource {
    return new JsonlSource(file, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  }

  async *chunks(options: ChunkOptions): AsyncIterable<SourceChunk> {
    const handle = await openRegularFile(this.file, 'the JSON Lines source');
    try {
      const lines = readLines(handle, this.maxRecordBytes, (line) => recordTooLarge(this.file, `line ${line}`, this.maxRecordBytes));
      yield* chunkRowStream(this.rows(lines), options, 1);
    } finally {
      await handle.close();
    }
  }

  /** Every non-blank line as an object; a line that is not a JSON object becomes a row that says why (and is rejected by the mapping). */
  private async *rows(lines: AsyncIterable<string>): AsyncIterable<SourceRow> {
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      yield parseLine(text, line);
    }
  }

  async close(): Promise<void> {}
}

/** Key of a row that could not be read: the mapping rejects such rows with this text as the reason. */
export const UNREADABLE_ROW = '__sibyl_unreadable_row';

function parseLine(text: string, line: number): SourceRow {
  let value: unknown;
  try {
    value = LONG_INTEGER.test(text) ? parseJsonExact(text) : JSON.parse(text);
  } catch (err) {
    return { [UNREADABLE_ROW]: `line ${line} is not valid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { [UNREADABLE_ROW]: `line ${line} is not a JSON object; expected one object per line` };
  return value as SourceRow;
}
