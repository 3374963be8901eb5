// The CSV scanner behind CsvSource: reads a file in blocks and scans its records (RFC 4180:
// comma-separated, fields may be double-quoted with "" for a quote, CRLF or LF line ends, a UTF-8
// BOM is dropped, blank lines are skipped) into column-major chunks: plain decimals (sign, ≤ 15
// digits, a point) straight into a Float64Array — exactly the double JSON.parse or Number() gives
// for the same text (an integer below 2^53 divided by an exact power of ten is correctly
// rounded) — everything else as text; columns the job does not read are skipped unparsed. It
// runs in the caller's thread or in a worker (csv-scan-worker.ts): it imports nothing but the
// protocol's error type and the source limits, so it bundles on its own.
//
// Memory: the buffer holds one block and the unfinished record; a record longer than
// `maxRecordBytes` fails the scan (naming the file, the row and the limit) instead of growing it,
// so a file without line ends (/dev/zero is refused before, but a regular file can be one endless
// line, or a quote never closed) costs at most the limit plus a block.
import type { FileHandle } from 'node:fs/promises';
import { SibylError } from '@sibyl/protocol';
import { DEFAULT_MAX_RECORD_BYTES, openRegularFile, recordTooLarge } from './source-limits.ts';

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const BLOCK_BYTES = 4 * 1024 * 1024;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

export interface CsvScanOptions {
  /** Columns the job reads; others are skipped without parsing. Default: all. */
  columns?: readonly string[];
  /** Columns always kept as text (keys), never parsed as numbers. */
  textColumns?: readonly string[];
  /** Longest record (row, with its line end) accepted, in bytes. Default DEFAULT_MAX_RECORD_BYTES (8 MiB). */
  maxRecordBytes?: number;
}

/** One chunk as scanned: per needed column, its numbers, and its texts when it has any. */
export interface ScannedChunk {
  index: number;
  /** Row number of the chunk's first record in the file (the header is row 1; blank lines are not rows). */
  firstRowNumber: number;
  rowCount: number;
  names: string[];
  /** Per column: the number of each row (NaN where the field is text). */
  numbers: Float64Array[];
  /** Per column: the text of each row where it is not a number; undefined for a column with no text in this chunk. */
  texts: ((string | undefined)[] | undefined)[];
}

/** What to do with each field position of a record: skip it, or store it in a column slot. */
interface FieldPlan {
  /** Per field position: index into the needed columns, or -1 to skip. */
  slot: Int32Array;
  /** Per slot: whether it is text only. */
  textOnly: boolean[];
  names: string[];
}

function planFor(file: string, header: string[], options: CsvScanOptions): FieldPlan {
  const wanted = options.columns ?? header;
  const missing = wanted.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new SibylError(
      'BATCH_SOURCE_INVALID',
      `${file}: the header has no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `'${c}'`).join(', ')}; its columns are ${header.map((c) => `'${c}'`).join(', ')}`,
    );
  }
  const names = [...new Set(wanted)];
  const slot = new Int32Array(header.length).fill(-1);
  header.forEach((h, i) => {
    const k = names.indexOf(h);
    if (k >= 0 && !slot.includes(k)) slot[i] = k; // the first of duplicated header names wins
  });
  const text = new Set(options.textColumns ?? []);
  return { slot, textOnly: names.map((n) => text.has(n)), names };
}

/** The needed columns of one chunk, filled record by record. */
class ColumnTable {
  readonly numbers: Float64Array[];
  /** Allocated at a column's first text in the chunk (most columns of a numeric file have none). */
  readonly texts: ((string | undefined)[] | undefined)[];

  constructor(
    readonly plan: FieldPlan,
    private readonly capacity: number,
  ) {
    this.numbers = plan.names.map(() => new Float64Array(capacity).fill(NaN));
    this.texts = plan.names.map(() => undefined);
  }

  setText(slot: number, row: number, text: string): void {
    (this.texts[slot] ??= new Array<string | undefined>(this.capacity))[row] = text;
  }

  finish(index: number, firstRowNumber: number, rows: number): ScannedChunk {
    return {
      index,
      firstRowNumber,
      rowCount: rows,
      names: this.plan.names,
      numbers: this.numbers.map((n) => (rows === n.length ? n : n.slice(0, rows))),
      texts: this.texts,
    };
  }
}

/**
 * The chunks of a CSV file in order, `chunkRows` records each, or fewer once their records (their
 * bytes in the file, line ends included) reach `chunkBytes`; chunks in `skip` are scanned past
 * (record boundaries only) without being yielded. @throws SibylError BATCH_SOURCE_INVALID.
 */
export async function* scanCsv(file: string, options: CsvScanOptions, read: { chunkRows: number; chunkBytes?: number; skip?: ReadonlySet<number>; signal?: AbortSignal }): AsyncGenerator<ScannedChunk> {
  const reader = await BlockReader.open(file, options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  try {
    const plan = planFor(file, await reader.header(), options);
    const { chunkRows, skip, signal } = read;
    const chunkBytes = read.chunkBytes ?? Number.POSITIVE_INFINITY;
    for (let index = 0; ; index++) {
      if (signal?.aborted) return;
      const skipping = skip?.has(index) === true;
      const table = skipping ? undefined : new ColumnTable(plan, chunkRows);
      const firstRowNumber = reader.rowsScanned + 1;
      const { rows, ended } = await reader.records(chunkRows, chunkBytes, plan, table);
      if (rows === 0) return;
      if (!skipping) yield table!.finish(index, firstRowNumber, rows);
      if (ended) return;
    }
  } finally {
    await reader.close();
  }
}

/** Reads the file block by block and scans records out of it. */
class BlockReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  /** Records scanned so far, the header included (blank lines are not records). */
  private recordsScanned = 0;

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle,
    private readonly maxRecordBytes: number,
  ) {}

  static async open(file: string, maxRecordBytes: number): Promise<BlockReader> {
    return new BlockReader(file, await openRegularFile(file, 'the CSV source'), maxRecordBytes);
  }

  /** The error of the record being scanned when it is over the limit. */
  private tooLarge(): SibylError {
    const n = this.recordsScanned + 1;
    return recordTooLarge(this.file, n === 1 ? 'the header (row 1)' : `row ${n} (the header is row 1)`, this.maxRecordBytes);
  }

  /** Accepts a record that ended at `end` (from `pos`), unless it is over the limit. */
  private take(end: number): void {
    if (end - this.pos > this.maxRecordBytes) throw this.tooLarge();
    this.pos = end;
    this.recordsScanned++;
  }

  /**
   * Keeps the bytes from `pos` on (the unfinished record, refused once over the limit) and appends
   * the next block. False when the end of the file was known already (true once more on reaching
   * it, so the last record is scanned again knowing it is the last).
   */
  private async fill(): Promise<boolean> {
    if (this.eof) return false;
    const rest = this.buf.length - this.pos;
    if (rest > this.maxRecordBytes) throw this.tooLarge();
    // Doubling keeps long records linear; never past the limit plus a block (and so always below 2^31).
    const next = Buffer.allocUnsafe(Math.min(Math.max(BLOCK_BYTES, rest * 2), this.maxRecordBytes + BLOCK_BYTES));
    this.buf.copy(next, 0, this.pos);
    const { bytesRead } = await this.handle.read(next, rest, next.length - rest, null);
    if (bytesRead === 0) this.eof = true;
    this.buf = next.subarray(0, rest + bytesRead);
    this.pos = 0;
    return true;
  }

  async header(): Promise<string[]> {
    await this.fill();
    if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = 3;
    const fields: string[] = [];
    for (;;) {
      const end = this.scanRecord(this.pos, undefined, undefined, 0, fields);
      if (end >= 0) {
        this.take(end);
        return fields;
      }
      if (end === -3) break;
      if (end === -2) {
        this.pos = this.skipLineEnd(this.pos);
        continue;
      }
      fields.length = 0;
      if (!(await this.fill())) break;
    }
    throw new SibylError('BATCH_SOURCE_INVALID', 'the CSV source is empty; expected a header row naming the columns');
  }

  /** Records scanned so far, the header included. */
  get rowsScanned(): number {
    return this.recordsScanned;
  }

  /**
   * Scans records into the table (or past them, without a table) until `limit` of them, or until
   * their bytes in the file (each from its first byte through its line end; blank lines not counted) reach
   * `maxBytes`, or the file ends (`ended`); returns how many.
   */
  async records(limit: number, maxBytes: number, plan: FieldPlan, table: ColumnTable | undefined): Promise<{ rows: number; ended: boolean }> {
    let n = 0;
    let bytes = 0;
    while (n < limit && bytes < maxBytes) {
      const start = this.pos;
      const end = this.scanRecord(this.pos, plan, table, n, undefined);
      if (end === -3) return { rows: n, ended: true };
      if (end === -1) {
        if (!(await this.fill())) break;
        continue;
      }
      if (end === -2) {
        this.pos = this.skipLineEnd(this.pos);
        continue; // a blank line
      }
      this.take(end);
      bytes += end - start;
      n++;
    }
    return { rows: n, ended: false };
  }

  private skipLineEnd(p: number): number {
    const b = this.buf;
    if (b[p] === CR) p++;
    if (b[p] === LF) p++;
    return p;
  }

  /**
   * Scans one record from `start`: its needed fields go to `table` row `row` (or to `fields` as
   * text, for the header). Returns the position after its line end; -1 when the buffer ends
   * before the record does (and the file has more); -2 for a blank line; -3 at the end of the file.
   */
  private scanRecord(start: number, plan: FieldPlan | undefined, table: ColumnTable | undefined, row: number, fields: string[] | undefined): number {
    const b = this.buf;
    const n = b.length;
    const eof = this.eof;
    let p = start;
    if (p >= n) return eof ? -3 : -1;
    if (b[p] === LF || b[p] === CR) return -2;
    let f = 0;
    for (;;) {
      const slot = plan === undefined ? (fields === undefined ? -1 : 0) : f < plan.slot.length ? plan.slot[f]! : -1;
      let text: string | undefined;
      let value = NaN;
      if (b[p] === QUOTE) {
        // Quoted: up to the closing quote; "" is a quote.
        let q = p + 1;
        let hasEscapes = false;
        for (;;) {
          if (q >= n) {
            if (eof) throw new SibylError('BATCH_SOURCE_INVALID', 'the CSV source ends inside a quoted field; expected a closing "');
            return -1;
          }
          if (b[q] === QUOTE) {
            if (q + 1 < n && b[q + 1] === QUOTE) {
              hasEscapes = true;
              q += 2;
              continue;
            }
            if (q + 1 >= n && !eof) return -1;
            break;
          }
          q++;
        }
        if (slot >= 0) {
          text = b.toString('utf8', p + 1, q);
          if (hasEscapes) text = text.replaceAll('""', '"');
        }
        p = q + 1;
        // Anything between the closing quote and the delimiter is kept out (lenient).
        while (p < n && b[p] !== COMMA && b[p] !== LF && b[p] !== CR) p++;
      } else if (slot >= 0 && (plan === undefined || !plan.textOnly[slot]) && fields === undefined) {
        // The fast path: a plain decimal number.
        let q = p;
        let neg = false;
        if (b[q] === MINUS) {
          neg = true;
          q++;
        } else if (b[q] === PLUS) q++;
        let m = 0;
        let digits = 0;
        let frac = -1;
        for (; q < n; q++) {
          const c = b[q]!;
          if (c >= 48 && c <= 57) {
            m = m * 10 + (c - 48);
            digits++;
            if (frac >= 0) frac++;
          } else if (c === DOT && frac < 0) frac = 0;
          else break;
        }
        if (q < n && b[q] !== COMMA && b[q] !== LF && b[q] !== CR) {
          while (q < n && b[q] !== COMMA && b[q] !== LF && b[q] !== CR) q++;
          digits = 0; // not a plain number: text
        }
        if (q >= n && !eof) return -1;
        if (digits > 0 && digits <= 15 && frac !== 0) {
          value = frac > 0 ? m / POW10[frac]! : m;
          if (neg) value = -value;
        } else text = b.toString('utf8', p, q);
        p = q;
      } else {
        let q = p;
        while (q < n && b[q] !== COMMA && b[q] !== LF && b[q] !== CR) q++;
        if (q >= n && !eof) return -1;
        if (slot >= 0) text = b.toString('utf8', p, q);
        p = q;
      }
      if (fields !== undefined) fields.push(text ?? '');
      else if (slot >= 0 && table !== undefined) {
        if (text === undefined) table.numbers[slot]![row] = value;
        else table.setText(slot, row, text);
      }
      f++;
      if (p >= n) return p; // the last record of the file, without a line end
      if (b[p] === COMMA) {
        p++;
        if (p >= n && !eof) return -1;
        continue;
      }
      return this.lineEnd(p, n, eof);
    }
  }

  private lineEnd(p: number, n: number, eof: boolean): number {
    const b = this.buf;
    if (b[p] === CR) {
      if (p + 1 >= n && !eof) return -1;
      p++;
    }
    if (p < n && b[p] === LF) p++;
    return p;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
