// The default answer of an endpoint's fallback, from its config (V2 JSON tensors) to tensors.
import { decodeInferRequest, type Tensor } from '@sibyl/protocol';
import type { DefaultOutput } from '../config/endpoint-config.ts';
import { copyTensor } from '../core/tensor-rows.ts';

const decoded = new WeakMap<readonly DefaultOutput[], Tensor[]>();

/**
 * The outputs as tensors (decoded once per config, copied for each answer).
 * @throws SibylError when the data does not fit the datatype and shape (checked when the
 *   endpoint is configured, see checkDefaultResponse).
 */
export function defaultOutputs(outputs: readonly DefaultOutput[]): Tensor[] {
  let tensors = decoded.get(outputs);
  if (tensors === undefined) {
    tensors = decodeInferRequest(JSON.stringify({ inputs: outputs })).inputs;
    decoded.set(outputs, tensors);
  }
  return tensors.map(copyTensor);
}
