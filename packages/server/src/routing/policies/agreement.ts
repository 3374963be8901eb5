// How far a shadow's answer is from the primary's: whether each row has the same top class, and
// the largest absolute difference of any element. Pure.
import type { Tensor } from '@sibyl/protocol';
import { rowMaxima } from '../../core/tensor-rows.ts';

export interface Agreement {
  rows: number;
  /** Rows whose largest element is at the same index in both. */
  sameTopClass: number;
  maxAbsDiff: number;
}

const NUMERIC = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);

/** undefined when the tensors cannot be compared (different datatypes or shapes, or not numeric). */
export function compareOutputs(primary: Tensor, shadow: Tensor): Agreement | undefined {
  if (!NUMERIC.has(primary.datatype) || primary.datatype !== shadow.datatype || primary.data.length !== shadow.data.length) return undefined;
  if (primary.shape.length !== shadow.shape.length || primary.shape.some((d, i) => d !== shadow.shape[i])) return undefined;
  const a = rowMaxima(primary);
  const b = rowMaxima(shadow);
  let same = 0;
  for (let r = 0; r < a.argmax.length; r++) if (a.argmax[r] === b.argmax[r]) same++;
  let maxAbsDiff = 0;
  const pa = primary.data as ArrayLike<number | bigint>;
  const pb = shadow.data as ArrayLike<number | bigint>;
  for (let i = 0; i < pa.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(Number(pa[i]) - Number(pb[i])));
  return { rows: a.argmax.length, sameTopClass: same, maxAbsDiff };
}
