// Deterministic tensor contents per datatype, for round-trip tests (identity models, codecs).
// Values include each type's edges (minimum, maximum, negative zero, NaN where they exist) so
// a test that loses a sign bit, truncates 64-bit integers or swaps bytes fails.

import { bfloat16Bits, float16Bits } from './tensor-data.ts';
import type { TypedArrayOf } from '@sibyl/protocol';
import type { TensorDatatype } from './tensor-data.ts';

/** The typed array (or string array for BYTES) holding sample values of each datatype. */
export interface SampleValuesOf extends TypedArrayOf {
  BYTES: string[];
}

const EDGES = {
  BOOL: [1, 0],
  UINT8: [0, 255, 1, 128],
  UINT16: [0, 65535, 1, 32768],
  UINT32: [0, 4294967295, 1, 2147483648],
  UINT64: [0n, 18446744073709551615n, 1n, 9007199254740993n],
  INT8: [-128, 127, 0, -1],
  INT16: [-32768, 32767, 0, -1],
  INT32: [-2147483648, 2147483647, 0, -1],
  INT64: [-9223372036854775808n, 9223372036854775807n, 0n, -9007199254740993n],
  FP16: [0, -0, 65504, -1.5, Infinity, NaN, 2 ** -24],
  BF16: [0, -0, 3.3895313892515355e38, -1.5, Infinity, NaN, 2 ** -133],
  FP32: [0, -0, 3.4028234663852886e38, -1.5, Infinity, NaN, 1.401298464324817e-45],
  FP64: [0, -0, Number.MAX_VALUE, -1.5, Infinity, NaN, Number.MIN_VALUE],
  BYTES: ['', 'a', 'héllo wörld', '日本語', 'line\nbreak', '\u0000nul'],
} as const;

/**
 * `count` values of `datatype`: the datatype's edge values first (as many as fit), then a
 * simple ramp. Same arguments, same values.
 */
export function sampleValues<D extends TensorDatatype>(datatype: D, count: number): SampleValuesOf[D] {
  const edges: readonly (number | bigint | string)[] = EDGES[datatype];
  const at = (i: number): number | bigint | string => {
    if (i < edges.length) return edges[i]!;
    if (datatype === 'BYTES') return `value ${i}`;
    if (datatype === 'BOOL') return i % 2;
    const n = i % 100;
    if (datatype === 'UINT64' || datatype === 'INT64') return BigInt(n);
    return datatype.startsWith('FP') || datatype === 'BF16' ? n / 4 : n;
  };
  const values = Array.from({ length: count }, (_, i) => at(i));
  switch (datatype) {
    case 'BYTES':
      return values as string[] as SampleValuesOf[D];
    case 'FP16':
      return Uint16Array.from(values as number[], float16Bits) as SampleValuesOf[D];
    case 'BF16':
      return Uint16Array.from(values as number[], bfloat16Bits) as SampleValuesOf[D];
    case 'UINT64':
      return BigUint64Array.from(values as bigint[]) as SampleValuesOf[D];
    case 'INT64':
      return BigInt64Array.from(values as bigint[]) as SampleValuesOf[D];
    default: {
      const ctor = {
        BOOL: Uint8Array,
        UINT8: Uint8Array,
        UINT16: Uint16Array,
        UINT32: Uint32Array,
        INT8: Int8Array,
        INT16: Int16Array,
        INT32: Int32Array,
        FP32: Float32Array,
        FP64: Float64Array,
      }[datatype as 'FP32'];
      return ctor.from(values as number[]) as SampleValuesOf[D];
    }
  }
}
