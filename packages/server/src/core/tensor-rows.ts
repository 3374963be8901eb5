// Row operations on batched tensors (first dimension = rows): copying, picking rows, and putting
// rows of another tensor back in place. Used where one request's rows take different paths
// (a cascade sends its uncertain rows on to the next model).
import { TYPED_ARRAY, type FixedDatatype, type Tensor, type TypedArray } from '@sibyl/protocol';

/** A deep copy whose buffers the caller owns (executions may transfer their inputs' buffers). */
export function copyTensor(t: Tensor): Tensor {
  return { ...t, shape: [...t.shape], data: Array.isArray(t.data) ? t.data.map((b) => b.slice()) : t.data.slice() };
}

/** Elements per row of a batched tensor. */
export function rowWidth(t: Tensor): number {
  const rows = t.shape[0] ?? 1;
  return rows === 0 ? 0 : t.data.length / rows;
}

/** A new tensor holding only `rows` (indices, in that order). */
export function pickRows(t: Tensor, rows: readonly number[]): Tensor {
  const width = rowWidth(t);
  const shape = [rows.length, ...t.shape.slice(1)];
  if (Array.isArray(t.data)) {
    const data = t.data as Uint8Array[];
    return { name: t.name, datatype: t.datatype, shape, data: rows.flatMap((r) => data.slice(r * width, (r + 1) * width).map((b) => b.slice())) };
  }
  const source = t.data as TypedArray;
  const out = new TYPED_ARRAY[t.datatype as FixedDatatype](rows.length * width) as TypedArray;
  rows.forEach((r, i) => (out as Float32Array).set((source as Float32Array).subarray(r * width, (r + 1) * width), i * width));
  return { name: t.name, datatype: t.datatype, shape, data: out };
}

/**
 * `base` with its rows `rows[i]` replaced by row i of `replacement` (a new tensor).
 * @throws Error when the tensors' datatypes or row widths differ.
 */
export function replaceRows(base: Tensor, rows: readonly number[], replacement: Tensor): Tensor {
  const width = rowWidth(base);
  if (replacement.datatype !== base.datatype || (rows.length > 0 && rowWidth(replacement) !== width)) {
    throw new Error(
      `output '${base.name}' is ${base.datatype} [${base.shape.join(', ')}] from one model and ${replacement.datatype} [${replacement.shape.join(', ')}] from the next; cascade stages must have outputs of the same datatype and row shape`,
    );
  }
  if (Array.isArray(base.data)) {
    const data = [...(base.data as Uint8Array[])];
    rows.forEach((r, i) => data.splice(r * width, width, ...(replacement.data as Uint8Array[]).slice(i * width, (i + 1) * width)));
    return { ...base, shape: [...base.shape], data };
  }
  const out = (base.data as TypedArray).slice() as TypedArray;
  rows.forEach((r, i) => (out as Float32Array).set((replacement.data as Float32Array).subarray(i * width, (i + 1) * width), r * width));
  return { ...base, shape: [...base.shape], data: out };
}

/** Each row's values as numbers (BigInt and FP16 bit patterns are not converted: callers check the datatype). */
export function rowMaxima(t: Tensor): { max: Float64Array; argmax: Int32Array } {
  const rows = t.shape[0] ?? 1;
  const width = rowWidth(t);
  const max = new Float64Array(rows).fill(Number.NEGATIVE_INFINITY);
  const argmax = new Int32Array(rows).fill(-1);
  const data = t.data as ArrayLike<number | bigint>;
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < width; k++) {
      const v = Number(data[r * width + k]);
      if (v > max[r]!) {
        max[r] = v;
        argmax[r] = k;
      }
    }
  }
  return { max, argmax };
}
