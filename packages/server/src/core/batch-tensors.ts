// Combining requests' tensors into one batch along the first dimension, and splitting a batch's
// outputs back. Each request gets exactly its own rows, in order. A batch of one request passes
// its tensors through untouched. Runtimes concatenate (in their own thread, so the event loop
// never copies a batch); the scheduler splits (views, no copies).
import { TYPED_ARRAY, type FixedDatatype, type Tensor, type TensorData, type TypedArray } from '@sibyl/protocol';

/** Rows (first dimension) of each member, in batch order. */
export type RowCounts = readonly number[];

function concatData(datatype: Tensor['datatype'], parts: readonly TensorData[], total: number): TensorData {
  if (datatype === 'BYTES') return (parts as Uint8Array[][]).flat();
  const out = new TYPED_ARRAY[datatype as FixedDatatype](total);
  let offset = 0;
  for (const part of parts as TypedArray[]) {
    (out as Float32Array).set(part as Float32Array, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Concatenates the members' inputs along the first dimension. All members have the same inputs
 * with the same non-batch dimensions (the batch key guarantees it), in the same order as the
 * first member's.
 */
export function concatInputs(members: readonly (readonly Tensor[])[]): Tensor[] {
  const first = members[0]!;
  if (members.length === 1) return first as Tensor[];
  return first.map((input) => {
    const parts = members.map((m) => m.find((t) => t.name === input.name)!);
    const rows = parts.reduce((sum, t) => sum + t.shape[0]!, 0);
    const total = parts.reduce((sum, t) => sum + t.data.length, 0);
    return { name: input.name, datatype: input.datatype, shape: [rows, ...input.shape.slice(1)], data: concatData(input.datatype, parts.map((t) => t.data), total) };
  });
}

/**
 * Splits batch outputs back into each member's rows. Members get views (subarrays) of the batch's
 * output buffers, not copies.
 * @throws Error when an output's first dimension does not equal the batch's total rows.
 */
export function splitOutputs(outputs: readonly Tensor[], rows: RowCounts): Tensor[][] {
  if (rows.length === 1) return [outputs as Tensor[]];
  const total = rows.reduce((a, b) => a + b, 0);
  const result: Tensor[][] = rows.map(() => []);
  for (const output of outputs) {
    if (output.shape[0] !== total) {
      throw new Error(`output '${output.name}' has ${output.shape[0]} rows for a batch of ${total}; the model does not keep the batch dimension`);
    }
    const perRow = total === 0 ? 0 : output.data.length / total;
    let offset = 0;
    rows.forEach((n, i) => {
      const start = offset * perRow;
      const end = (offset + n) * perRow;
      const data = Array.isArray(output.data) ? output.data.slice(start, end) : (output.data as Float32Array).subarray(start, end);
      result[i]!.push({ name: output.name, datatype: output.datatype, shape: [n, ...output.shape.slice(1)], data });
      offset += n;
    });
  }
  return result;
}
