// A stored prediction as an inference answer: its outputs become V2 output tensors with a batch
// dimension of 1 (the stored row was one row of a batch), answered in the name and version of
// the model that made it.
import { SibylError, isDatatype, tensorDataFromJson, type InferResponse, type Tensor } from '@sibyl/protocol';
import type { StoredPrediction } from './stored-prediction.ts';

/**
 * Through the protocol's element decoder (the same datatype rules as any JSON tensor); null
 * elements — how a JSON store keeps NaN — come back as NaN.
 * @throws SibylError INTERNAL_ERROR when the stored outputs do not fit their datatype and shape
 *   (a store written by something else), naming the model, key and output.
 */
export function storedAnswer(p: StoredPrediction): InferResponse {
  const outputs = p.outputs.map((o): Tensor => {
    const shape = [1, ...o.shape];
    try {
      if (!isDatatype(o.datatype)) throw new Error(`datatype ${JSON.stringify(o.datatype)} is not a V2 datatype`);
      const data = o.data.includes(null as never) ? o.data.map((v) => (v === null ? Number.NaN : v)) : o.data;
      return { name: o.name, datatype: o.datatype, shape, data: tensorDataFromJson({ name: o.name, datatype: o.datatype, shape }, data) };
    } catch (err) {
      throw new SibylError('INTERNAL_ERROR', `the stored prediction of ${p.model} for key ${JSON.stringify(p.key)} has an output '${o.name}' that is not a valid tensor: ${(err as Error).message}`, { cause: err });
    }
  });
  return { model_name: p.model, model_version: p.version, outputs };
}
