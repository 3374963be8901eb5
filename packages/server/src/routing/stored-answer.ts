// A stored prediction as an inference answer: its outputs become V2 output tensors with a batch
// dimension of 1 (the stored row was one row of a batch), answered in the name and version of
// the model that made it.
import { decodeInferResponse, type InferResponse } from '@sibyl/protocol';
import type { StoredPrediction } from './stored-prediction.ts';

/**
 * @throws SibylError MALFORMED_RESPONSE when the stored outputs do not fit their datatype and
 *   shape (a store written by something else).
 */
export function storedAnswer(p: StoredPrediction): InferResponse {
  // Through the protocol's own decoder: the same datatype rules as any answer (non-finite
  // numbers, stored as JSON null where the store is JSON, come back as NaN).
  return decodeInferResponse(
    JSON.stringify({
      model_name: p.model,
      model_version: p.version,
      outputs: p.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: [1, ...o.shape], data: o.data })),
    }),
  );
}
