// The wire contract between a distributed batch job's coordinator and its workers, on Redis.
//
// - Each job has its own BullMQ queue, `sibyl-batch-<jobId>`, under a key prefix (default
//   `sibyl`; tests use a fresh one). A queue item is one chunk, its BullMQ job id `chunk-<index>`.
// - Chunks travel with their rows. The alternative — a reference (file offset, SQL range) that
//   each worker re-reads — would need every worker to reach the source (the same files mounted on
//   every machine, the database open to all of them) and every source format to support random
//   access; rows in the message need neither, and Redis memory stays bounded because the
//   coordinator keeps at most `maxQueuedChunks` chunks queued or running at a time.
// - The registry hash `<prefix>:sibyl-batch:jobs` maps the id of every running distributed job to
//   its descriptor (the job spec and where its prediction store is). Workers poll it to find the
//   queues to work on; the coordinator removes the entry when the job ends.
// - A worker returns the chunk's outcome (counts and rejected rows) as the BullMQ return value;
//   the coordinator reads it from QueueEvents. The predictions themselves never come back: the
//   worker commits them to the job's prediction store (shared by all workers) in one transaction
//   with the chunk's index, so a chunk handed to a second worker (its first one died) replaces its
//   rows — every row is stored exactly once.
import type { ChunkOutcome } from '../chunk-processor.ts';
import { columnarChunk } from '../chunk-row.ts';
import type { ColumnValues, SourceChunk, SourceRow } from '../source.ts';

export const DEFAULT_QUEUE_PREFIX = 'sibyl';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** What workers need to score a job's chunks, published by its coordinator. */
export interface DistributedJobDescriptor {
  jobId: string;
  /** The job spec as the coordinator compiled it (every path absolute; its store is the shared one): workers compile it again. */
  spec: unknown;
  createdAtMs: number;
}

/**
 * One queued chunk: its rows as the coordinator's source read them — column by column when the
 * source reads columns (CSV: each field a number where the scanner parsed one, else its text),
 * else as row objects. A worker rebuilds the same chunk, so its row mapping builds exactly the
 * requests a single-process run builds (JSON carries doubles exactly).
 */
export interface ChunkMessage {
  jobId: string;
  index: number;
  firstRowNumber: number;
  rowCount: number;
  /**
   * Column name → per row the parsed number as the base64 of a Float64Array (NaN where the field
   * is text; the bytes of the platform, little-endian wherever Node runs): cheaper to encode and
   * parse than a JSON array of numbers, and exact. Then the texts.
   */
  columns?: Record<string, { numbers: string; texts?: Record<number, string> }>;
  rows?: SourceRow[];
}

export type ChunkResult = ChunkOutcome;

/** A chunk as a message (64-bit integers of row objects become decimal text, which the row mapping reads back exactly). */
export function encodeChunk(jobId: string, chunk: SourceChunk, columnNames: readonly string[]): ChunkMessage {
  const base = { jobId, index: chunk.index, firstRowNumber: chunk.firstRowNumber };
  const columns = chunk.columns;
  if (columns !== undefined) {
    const out: NonNullable<ChunkMessage['columns']> = {};
    for (const name of columnNames) {
      const c = columns.get(name);
      if (c === undefined) continue;
      let texts: Record<number, string> | undefined;
      for (let r = 0; r < columns.rowCount; r++) {
        const x = c.numbers[r]!;
        if (x !== x) {
          const t = c.texts[r];
          if (t !== undefined) (texts ??= {})[r] = t;
        }
      }
      const numbers = Buffer.from(c.numbers.buffer, c.numbers.byteOffset, columns.rowCount * 8).toString('base64');
      out[name] = texts === undefined ? { numbers } : { numbers, texts };
    }
    return { ...base, rowCount: columns.rowCount, columns: out };
  }
  const rows = chunk.rows;
  return { ...base, rowCount: rows.length, rows: rows.map((row) => (Object.values(row).some((v) => typeof v === 'bigint') ? Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])) : row)) };
}

/** The chunk a message carries, as the worker's chunk processor reads it. */
export function decodeChunk(message: ChunkMessage): SourceChunk {
  const { index, firstRowNumber, rowCount } = message;
  if (message.columns === undefined) return { index, firstRowNumber, rows: message.rows ?? [] };
  const byName = new Map<string, ColumnValues>();
  for (const [name, column] of Object.entries(message.columns)) {
    const bytes = Buffer.from(column.numbers, 'base64');
    const numbers = new Float64Array(rowCount);
    new Uint8Array(numbers.buffer).set(bytes.subarray(0, rowCount * 8));
    const texts = new Array<string | undefined>(rowCount);
    if (column.texts !== undefined) for (const [r, t] of Object.entries(column.texts)) texts[Number(r)] = t;
    byName.set(name, { numbers, texts });
  }
  // Rows (for reject records) read as the CSV source's do.
  return columnarChunk(index, firstRowNumber, { rowCount, names: [...byName.keys()], get: (name) => byName.get(name) });
}

/** BullMQ queue of a job's chunks. BullMQ forbids ':' in queue names: characters other than [A-Za-z0-9_.-] are %-escaped. */
export function chunkQueueName(jobId: string): string {
  return `sibyl-batch-${jobId.replace(/[^A-Za-z0-9_.-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
}

export function chunkItemId(index: number): string {
  return `chunk-${index}`;
}

/** The chunk index of a queue item id, or undefined when it is not one of ours. */
export function chunkIndexOf(itemId: string): number | undefined {
  const m = /^chunk-(\d+)$/.exec(itemId);
  return m === null ? undefined : Number(m[1]);
}

export function registryKey(prefix: string): string {
  return `${prefix}:sibyl-batch:jobs`;
}

/** Timing of BullMQ's stalled-chunk detection: a chunk whose worker died goes to another after about lockDurationMs + stalledIntervalMs. */
export interface StallOptions {
  /** How long a worker's lock on a chunk lasts without renewal (renewed every lockDurationMs/2 while alive). Default 30000. */
  lockDurationMs: number;
  /** How often workers look for chunks whose lock expired. Default 30000. */
  stalledIntervalMs: number;
  /** How many times a chunk may stall (its worker died) before it fails. Default 3. */
  maxStalledCount: number;
}

export const DEFAULT_STALL_OPTIONS: StallOptions = { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 3 };
