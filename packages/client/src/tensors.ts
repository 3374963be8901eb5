// Reading typed outputs.
import type { Datatype, InferResponse, Tensor, TypedArrayOf } from '@sibyl/protocol';

type DataOf<D extends Datatype> = D extends keyof TypedArrayOf ? TypedArrayOf[D] : Uint8Array[];

/**
 * The output named `name`, its data typed by `datatype` (Float32Array for FP32, BigInt64Array for
 * INT64, Uint8Array[] for BYTES, …). @throws TypeError naming what the response holds instead.
 */
export function outputOf<D extends Datatype>(response: InferResponse, name: string, datatype: D): Tensor & { datatype: D; data: DataOf<D> } {
  const output = response.outputs.find((o) => o.name === name);
  if (output === undefined) throw new TypeError(`the response has no output '${name}'; it has ${response.outputs.map((o) => `'${o.name}'`).join(', ') || 'none'}`);
  if (output.datatype !== datatype) throw new TypeError(`output '${name}' is ${output.datatype}, not ${datatype}`);
  return output as Tensor & { datatype: D; data: DataOf<D> };
}
