// Reading tensors as rows of numbers for drift monitoring, without copying them.
import { fromBFloat16Bits, fromFloat16Bits, type Tensor } from '@sibyl/protocol';

/** Element `i` of a numeric tensor as a number; undefined for BYTES tensors. */
export function numericReader(tensor: Tensor): ((i: number) => number) | undefined {
  const data = tensor.data;
  if (Array.isArray(data)) return undefined;
  switch (tensor.datatype) {
    case 'INT64':
    case 'UINT64':
      return (i) => Number((data as BigInt64Array)[i]!);
    case 'FP16':
      return (i) => fromFloat16Bits((data as Uint16Array)[i]!);
    case 'BF16':
      return (i) => fromBFloat16Bits((data as Uint16Array)[i]!);
    default: {
      const array = data as Float32Array;
      return (i) => array[i]!;
    }
  }
}

/** Rows of a tensor and values per row: along the first dimension when the model batches. */
export function rowsOf(tensor: Tensor, batched: boolean): { rows: number; perRow: number } {
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (!batched || tensor.shape.length === 0) return { rows: 1, perRow: count };
  const rows = tensor.shape[0]!;
  return { rows, perRow: rows === 0 ? 0 : count / rows };
}
