// The ChunkProcessor of batch jobs (single-process runs and distributed workers alike): a chunk's
// rows are mapped to inputs (row-mapping.ts), scored in requests of many rows with several
// requests in flight (so the model's instances never wait for the next request), split back into
// one StoredPrediction per row and committed in one transaction. A request that fails because of
// its rows (the model refuses an input, the runtime fails on it) is retried row by row to find
// the bad rows, which are rejected; a failure of the model or the server (unavailable, overloaded
// after retries, cancelled) fails the chunk.
import { SibylError, fromBFloat16Bits, isInputFault, isRetriable, fromFloat16Bits, type InferResponse, type Tensor } from '@sibyl/protocol';
import type { Clock } from '../core/clock.ts';
import type { ChunkOutcome, ChunkProcessor, RejectedRow } from './chunk-processor.ts';
import type { BatchScorer } from './batch-scorer.ts';
import type { PredictionStore, StoredOutput, StoredPrediction } from './prediction-store.ts';
import type { RowMapper } from './row-mapping.ts';
import { rowAt } from './chunk-row.ts';
import type { ColumnarCommit, PredictionSegment } from './columnar-predictions.ts';
import type { SourceChunk } from './source.ts';

export interface ChunkProcessorOptions {
  store: PredictionStore;
  scorer: BatchScorer;
  mapper: RowMapper;
  clock: Clock;
  /** The name predictions are stored under (the model's, or the endpoint's). */
  predictionModel: string;
  /** Rows per inference request (1 for models that do not batch). */
  requestRows: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Outputs to store (default: all the response carries). */
  outputs?: readonly string[];
  /**
   * Commits a chunk given column by column instead of through store.commitChunk (e.g. from
   * another thread: see sqlite-commit-thread.ts); it must write the same store, with the same
   * transaction semantics.
   */
  commit?: ColumnarCommit;
  /**
   * Called with a chunk's rejected rows before the chunk is committed (the reject file of a
   * single-process run), so that a crash between the two cannot lose them: a chunk scored again
   * after a crash reports its rejects again (at least once).
   */
  beforeCommit?: (chunkIndex: number, rejected: readonly RejectedRow[]) => Promise<void>;
}

/**
 * Whether a failure means the server or the model cannot answer now, whatever the rows: retried,
 * then the chunk fails. The error table's retriable errors, and deadlines too: the table does not
 * retry those (a caller's deadline is spent once it passes), but each attempt of a batch job has a
 * deadline of its own, and scoring rows again is safe (a chunk's commit replaces its rows).
 */
function isTransient(err: unknown): boolean {
  return err instanceof SibylError && (isRetriable(err.code, err.reason) || err.code === 'DEADLINE_EXCEEDED');
}
const RETRIES = 5;

export function createChunkProcessor(options: ChunkProcessorOptions): ChunkProcessor {
  const { store, scorer, mapper, clock, predictionModel, requestRows, concurrency, commit } = options;
  const wanted = options.outputs === undefined ? undefined : new Set(options.outputs);

  /** Scores rows (already built into one request), retrying transient failures. */
  async function infer(build: () => ReturnType<RowMapper['build']>, signal: AbortSignal | undefined): Promise<{ response: InferResponse; rows: number[]; problems: Map<number, string> } | { rows: []; problems: Map<number, string> }> {
    for (let attempt = 0; ; attempt++) {
      const built = build(); // a fresh request each attempt: the scorer owns the tensors it was given
      if (built.request === undefined) return { rows: [], problems: built.problems };
      if (wanted !== undefined) built.request.outputs = [...wanted].map((name) => ({ name }));
      try {
        return { response: await scorer.infer(built.request, signal), rows: built.rows, problems: built.problems };
      } catch (err) {
        if (signal?.aborted) throw new SibylError('REQUEST_CANCELLED', 'the batch job was cancelled');
        if (isTransient(err) && attempt < RETRIES) {
          await sleep(clock, 100 * 2 ** attempt);
          continue;
        }
        throw err;
      }
    }
  }

  return async (jobId: string, chunk: SourceChunk, signal?: AbortSignal): Promise<ChunkOutcome> => {
    const checked = mapper.check(chunk);
    const n = checked.keys.length;
    const reasons = checked.problems;
    /** Per chunk row, its prediction once scored. */
    const predictions = new Array<StoredPrediction | undefined>(n);
    const good = checked.good;
    const groups: number[][] = [];
    for (let i = 0; i < good.length; i += requestRows) groups.push(good.slice(i, i + requestRows));
    const createdAtMs = clock.epochMs();
    /** Column by column (when `commit` is set): per request, its rows' keys and outputs, with the first row's position. */
    const segments: { first: number; segment: PredictionSegment }[] = [];

    const store1 = (response: InferResponse, rows: readonly number[]): void => {
      const version = response.model_version ?? '';
      if (commit !== undefined) {
        const outputs = wanted === undefined ? response.outputs : response.outputs.filter((t) => wanted.has(t.name));
        segments.push({ first: rows[0]!, segment: { keys: rows.map((r) => checked.keys[r]!), version, outputs } });
        return;
      }
      const perRow = splitOutputs(response.outputs, rows.length, wanted);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        predictions[r] = { model: predictionModel, key: checked.keys[r]!, version, outputs: perRow[i]!, jobId, createdAtMs };
      }
    };

    const scoreGroup = async (rows: number[]): Promise<void> => {
      try {
        const result = await infer(() => mapper.build(chunk, rows), signal);
        for (const [r, why] of result.problems) reasons.set(r, why);
        if ('response' in result) store1(result.response, result.rows);
      } catch (err) {
        if (!isRowsFault(err) || rows.length === 1) {
          if (rows.length === 1 && isRowsFault(err)) {
            reasons.set(rows[0]!, `the model refused the row: ${(err as Error).message}`);
            return;
          }
          throw err;
        }
        // Isolate the bad rows: each row alone.
        for (const r of rows) await scoreGroup([r]);
      }
    };

    // `concurrency` requests in flight; the chunk fails at the first failure that is not a row's.
    let next = 0;
    const lanes = Array.from({ length: Math.min(concurrency, groups.length) }, async () => {
      while (next < groups.length) {
        if (signal?.aborted) throw new SibylError('REQUEST_CANCELLED', 'the batch job was cancelled');
        await scoreGroup(groups[next++]!);
      }
    });
    await Promise.all(lanes);
    if (signal?.aborted) throw new SibylError('REQUEST_CANCELLED', 'the batch job was cancelled');

    const written: StoredPrediction[] = [];
    for (let r = 0; r < n && commit === undefined; r++) {
      const p = predictions[r];
      if (p !== undefined) written.push(p);
    }
    const rejected: RejectedRow[] = [];
    for (const [r, reason] of [...reasons].sort((a, b) => a[0] - b[0])) {
      const rowNumber = chunk.firstRowNumber + r;
      const key = checked.keys[r];
      rejected.push({ rowNumber, ...(key === undefined ? {} : { key }), reason: `row ${rowNumber}: ${reason}`, row: rowAt(chunk, r) });
    }
    await options.beforeCommit?.(chunk.index, rejected);
    if (commit === undefined) {
      await store.commitChunk(jobId, chunk.index, written);
      return { chunkIndex: chunk.index, rowsRead: n, rowsWritten: written.length, rejected };
    }
    // In row order, so that of two rows with the same key the later wins, as with commitChunk.
    segments.sort((a, b) => a.first - b.first);
    const rowsWritten = segments.reduce((sum, s) => sum + s.segment.keys.length, 0);
    await commit(chunk.index, { model: predictionModel, jobId, createdAtMs, segments: segments.map((s) => s.segment) });
    return { chunkIndex: chunk.index, rowsRead: n, rowsWritten, rejected };
  };
}

/**
 * Whether a failure may be the rows' doing: the error table's input faults (the model refused
 * them), and RUNTIME_FAILED, which the table counts as the server's until isolation pins it on
 * one input — which is what the caller does with it: it splits the group down to single rows,
 * as the scheduler's isolation does for online requests.
 */
function isRowsFault(err: unknown): boolean {
  return err instanceof SibylError && (isInputFault(err) || err.reason === 'RUNTIME_FAILED');
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * Each output of a response of `rows` rows as one StoredOutput per row, without the batch
 * dimension, with data as V2 JSON writes it (numbers, exact 64-bit integers as numbers when safe
 * and decimal strings beyond, booleans, UTF-8 strings).
 */
export function splitOutputs(outputs: readonly Tensor[], rows: number, wanted?: ReadonlySet<string>): StoredOutput[][] {
  const kept = wanted === undefined ? outputs : outputs.filter((t) => wanted.has(t.name));
  // Each row's list is allocated at its final length (an empty array grown by push reserves more).
  const perRow: StoredOutput[][] = new Array<StoredOutput[]>(rows);
  for (let i = 0; i < rows; i++) perRow[i] = new Array<StoredOutput>(kept.length);
  for (let o = 0; o < kept.length; o++) {
    const t = kept[o]!;
    const shape = t.shape.slice(1);
    const size = shape.reduce((a, b) => a * b, 1);
    if (t.shape[0] !== rows) throw new SibylError('INTERNAL_ERROR', `output '${t.name}' has ${t.shape[0]} rows for a request of ${rows}`);
    const data = t.data;
    for (let i = 0; i < rows; i++) {
      const start = i * size;
      let values: (number | string | boolean)[];
      if (Array.isArray(data)) values = (data as Uint8Array[]).slice(start, start + size).map((b) => utf8.decode(b));
      else if (t.datatype === 'BOOL') values = Array.from((data as Uint8Array).subarray(start, start + size), (b) => b !== 0);
      else if (t.datatype === 'FP16' || t.datatype === 'BF16') values = Array.from((data as Uint16Array).subarray(start, start + size), t.datatype === 'FP16' ? fromFloat16Bits : fromBFloat16Bits);
      else if (data instanceof BigInt64Array || data instanceof BigUint64Array) values = Array.from(data.subarray(start, start + size), (b) => (b >= -(2n ** 53n) && b <= 2n ** 53n ? Number(b) : b.toString()));
      else {
        const typed = data as Float32Array;
        values = new Array<number>(size);
        for (let k = 0; k < size; k++) values[k] = typed[start + k]!;
      }
      perRow[i]![o] = { name: t.name, datatype: t.datatype, shape, data: values };
    }
  }
  return perRow;
}

const utf8 = new TextDecoder();
