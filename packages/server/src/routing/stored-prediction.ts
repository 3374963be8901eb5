// Precomputed predictions as serving reads them: what a batch job stored for a (model, key).
// Routing reads them (hybrid serving, lookups) through PredictionLookup; batch/ writes them
// through the PredictionStore that extends it.

/** One row's stored prediction. */
export interface StoredPrediction {
  model: string;
  /** The row's key: its key column's value, or the key columns' values joined with KEY_SEPARATOR. */
  key: string;
  /** The version that answered (the model's own version, also when an endpoint routed the row). */
  version: string;
  /** The row's outputs, each without the batch dimension, as in V2 JSON. */
  outputs: StoredOutput[];
  jobId: string;
  /** Epoch ms when the prediction was written. */
  createdAtMs: number;
}

export interface StoredOutput {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

/** Joins the values of several key columns into one key. */
export const KEY_SEPARATOR = '|';

export interface PredictionLookup {
  /** The stored predictions of a model for these keys (missing keys are absent from the map). */
  lookup(model: string, keys: readonly string[]): Promise<Map<string, StoredPrediction>>;
}
