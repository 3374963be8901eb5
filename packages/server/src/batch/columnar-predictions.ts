// A chunk's predictions column by column — the keys of the rows and the batched output tensors of
// the requests that scored them — so they can cross to another thread cheaply (a structured
// clone of 10,000 StoredPrediction objects takes ~37 ms; of their keys and outputs, under 1 ms).
import type { Tensor } from '@sibyl/protocol';
import type { StoredPrediction } from './prediction-store.ts';
import { splitOutputs } from './score-chunk.ts';

/** The rows one request scored: their keys, in order, and its outputs (first dimension = rows). */
export interface PredictionSegment {
  keys: string[];
  version: string;
  outputs: Tensor[];
}

export interface ColumnarPredictions {
  model: string;
  jobId: string;
  createdAtMs: number;
  segments: PredictionSegment[];
}

/** The per-row predictions, segment by segment. */
export function toStoredPredictions(c: ColumnarPredictions): StoredPrediction[] {
  const out: StoredPrediction[] = [];
  for (const s of c.segments) {
    const perRow = splitOutputs(s.outputs, s.keys.length);
    for (let i = 0; i < s.keys.length; i++) out.push({ model: c.model, key: s.keys[i]!, version: s.version, outputs: perRow[i]!, jobId: c.jobId, createdAtMs: c.createdAtMs });
  }
  return out;
}

/** Commits a chunk given column by column (see ColumnarCommitter). */
export type ColumnarCommit = (chunkIndex: number, predictions: ColumnarPredictions) => Promise<void>;
