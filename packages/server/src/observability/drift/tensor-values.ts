// Reading tensors as rows of numbers for drift monitoring, without copying them and without
// allocating per request (this runs for every request of a monitored model).
import { fromBFloat16Bits, fromFloat16Bits, type Tensor } from '@sibyl/protocol';

/** Whether drift can read the tensor's elements as numbers (every datatype but BYTES). */
export function isNumeric(tensor: Tensor): boolean {
  return !Array.isArray(tensor.data);
}

/** Element `i` of a numeric tensor as a number. */
export function valueAt(tensor: Tensor, i: number): number {
  const data = tensor.data as unknown as ArrayLike<number | bigint>;
  switch (tensor.datatype) {
    case 'INT64':
    case 'UINT64':
      return Number(data[i]!);
    case 'FP16':
      return fromFloat16Bits(data[i] as number);
    case 'BF16':
      return fromBFloat16Bits(data[i] as number);
    default:
      return data[i] as number;
  }
}

/** The tensor named `name`, or undefined (a loop: no closure per call). */
export function tensorNamed(tensors: readonly Tensor[], name: string): Tensor | undefined {
  for (let i = 0; i < tensors.length; i++) if (tensors[i]!.name === name) return tensors[i];
  return undefined;
}

/** Rows of a tensor and values per row: along the first dimension when the model batches. */
export function rowsOf(tensor: Tensor, batched: boolean): { rows: number; perRow: number } {
  let count = 1;
  for (const d of tensor.shape) count *= d;
  if (!batched || tensor.shape.length === 0) return { rows: 1, perRow: count };
  const rows = tensor.shape[0]!;
  return { rows, perRow: rows === 0 ? 0 : count / rows };
}
