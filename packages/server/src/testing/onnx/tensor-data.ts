// Datatypes of tensors written into test models, and how their elements become TensorProto
// bytes. Names are the Open Inference Protocol's (`Datatype` of @sibyl/protocol).
import type { Datatype } from '@sibyl/protocol';

export type TensorDatatype = Datatype;

/** onnx.proto `TensorProto.DataType` of each datatype. */
export const ONNX_DATA_TYPE: { readonly [D in TensorDatatype]: number } = {
  FP32: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  BYTES: 8, // STRING
  BOOL: 9,
  FP16: 10,
  FP64: 11,
  UINT32: 12,
  UINT64: 13,
  BF16: 16,
};

/**
 * Elements of a tensor written into a model. Typed arrays are taken as they are and must be
 * the datatype's own array (FP16 and BF16 as Uint16Array bit patterns, BOOL as Uint8Array of
 * 0/1). Plain arrays are converted: numbers for every numeric datatype (FP16/BF16 are
 * rounded from the number; 64-bit integers must be safe integers), bigints for INT64/UINT64,
 * booleans or numbers for BOOL, strings (UTF-8 encoded) or byte strings for BYTES.
 */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | readonly number[]
  | readonly bigint[]
  | readonly boolean[]
  | readonly (string | Uint8Array)[];

/** How one datatype is laid out in raw_data: element size and little-endian writer. */
interface RawLayout {
  readonly size: number;
  readonly array: string; // the typed array constructor name accepted as-is
  readonly write: (view: DataView, offset: number, value: number | bigint) => void;
}

const RAW_LAYOUT: { readonly [D in Exclude<TensorDatatype, 'BYTES'>]: RawLayout } = {
  BOOL: { size: 1, array: 'Uint8Array', write: (v, o, x) => v.setUint8(o, Number(x) ? 1 : 0) },
  UINT8: { size: 1, array: 'Uint8Array', write: (v, o, x) => v.setUint8(o, Number(x)) },
  INT8: { size: 1, array: 'Int8Array', write: (v, o, x) => v.setInt8(o, Number(x)) },
  UINT16: { size: 2, array: 'Uint16Array', write: (v, o, x) => v.setUint16(o, Number(x), true) },
  INT16: { size: 2, array: 'Int16Array', write: (v, o, x) => v.setInt16(o, Number(x), true) },
  UINT32: { size: 4, array: 'Uint32Array', write: (v, o, x) => v.setUint32(o, Number(x), true) },
  INT32: { size: 4, array: 'Int32Array', write: (v, o, x) => v.setInt32(o, Number(x), true) },
  UINT64: {
    size: 8,
    array: 'BigUint64Array',
    write: (v, o, x) => v.setBigUint64(o, toBigInt(x), true),
  },
  INT64: {
    size: 8,
    array: 'BigInt64Array',
    write: (v, o, x) => v.setBigInt64(o, toBigInt(x), true),
  },
  FP16: { size: 2, array: 'Uint16Array', write: (v, o, x) => v.setUint16(o, Number(x), true) },
  BF16: { size: 2, array: 'Uint16Array', write: (v, o, x) => v.setUint16(o, Number(x), true) },
  FP32: { size: 4, array: 'Float32Array', write: (v, o, x) => v.setFloat32(o, Number(x), true) },
  FP64: { size: 8, array: 'Float64Array', write: (v, o, x) => v.setFloat64(o, Number(x), true) },
};

function toBigInt(x: number | bigint): bigint {
  if (typeof x === 'bigint') return x;
  if (!Number.isSafeInteger(x)) {
    throw new TypeError(`64-bit integer element ${x} is not a safe integer; pass a bigint`);
  }
  return BigInt(x);
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Number of elements of a fixed shape (1 for a scalar `[]`). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

/**
 * The fields of a TensorProto holding `values`: `raw_data` (little-endian, whatever the host
 * order) for fixed-size datatypes, `string_data` for BYTES. Throws a TypeError naming
 * `what` when the values do not fit the datatype or their count is not `count`.
 */
export function tensorContent(
  what: string,
  datatype: TensorDatatype,
  count: number,
  values: TensorValues,
): { raw_data: Uint8Array } | { string_data: Uint8Array[] } {
  if (values.length !== count) {
    throw new TypeError(`${what}: ${values.length} elements given, shape holds ${count}`);
  }
  if (datatype === 'BYTES') {
    const encoder = new TextEncoder();
    return {
      string_data: Array.from(values as ArrayLike<unknown>, (v, i) => {
        if (typeof v === 'string') return encoder.encode(v);
        if (v instanceof Uint8Array) return v;
        throw new TypeError(`${what}: BYTES element ${i} must be a string or Uint8Array`);
      }),
    };
  }
  const layout = RAW_LAYOUT[datatype];
  const isTyped = ArrayBuffer.isView(values);
  if (isTyped && values.constructor.name !== layout.array) {
    throw new TypeError(`${what}: ${datatype} takes a ${layout.array}, got ${values.constructor.name}`);
  }
  if (isTyped && isLittleEndianHost()) {
    // Already the raw_data layout: copy the bytes (a copy, so later writes to `values` and
    // the model stay independent).
    return { raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice() };
  }
  const raw = new Uint8Array(count * layout.size);
  const view = new DataView(raw.buffer);
  const convert = !isTyped && (datatype === 'FP16' || datatype === 'BF16');
  for (let i = 0; i < count; i++) {
    const v = (values as ArrayLike<unknown>)[i];
    if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean') {
      throw new TypeError(`${what}: ${datatype} element ${i} is a ${typeof v}, expected a number`);
    }
    const x = typeof v === 'boolean' ? Number(v) : v;
    const bits = convert ? (datatype === 'FP16' ? float16Bits(Number(x)) : bfloat16Bits(Number(x))) : x;
    layout.write(view, i * layout.size, bits);
  }
  return { raw_data: raw };
}

/** A plain object shaped like onnx.TensorProto holding `values` with shape `dims`. */
export function tensorProto(
  what: string,
  name: string,
  tensor: { readonly datatype: TensorDatatype; readonly dims: readonly number[]; readonly values: TensorValues },
): Record<string, unknown> {
  for (const d of tensor.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new TypeError(`${what}: dimension ${d} is not a size`);
  }
  return {
    name,
    dims: [...tensor.dims],
    data_type: ONNX_DATA_TYPE[tensor.datatype],
    ...tensorContent(what, tensor.datatype, elementCount(tensor.dims), tensor.values),
  };
}

function float32Bits(x: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  return view.getUint32(0);
}

/** IEEE 754 half-precision bit pattern of `x`, rounded to nearest even (NaN → 0x7e00). */
export function float16Bits(x: number): number {
  const bits = float32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  // Rebias the exponent from 127 to 15; below 2^-24 the value rounds to (signed) zero.
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000; // implicit leading one
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // Carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half);
}

/** The number a half-precision bit pattern stands for. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bit pattern of `x` (the top half of its float32), rounded to nearest even. */
export function bfloat16Bits(x: number): number {
  const bits = float32Bits(x);
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff; // quiet NaN
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}
