// The Open Inference Protocol datatype table: names, element sizes and the typed array that
// holds each datatype's elements. Imports nothing; runs in Node and browsers.

/** Every tensor datatype of the Open Inference Protocol (KServe V2), plus Triton's BF16. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** Datatypes whose elements have a fixed size (everything but BYTES). */
export type FixedDatatype = Exclude<Datatype, 'BYTES'>;

/**
 * Elements of a BYTES tensor: one byte string per element. Kept as bytes, not strings, because
 * the protocol allows arbitrary binary elements; runtimes that need strings decode them.
 */
export type BytesElements = Uint8Array[];

/** The typed array that holds each fixed-size datatype's elements, in little-endian order. */
export interface TypedArrayOf {
  BOOL: Uint8Array; // one byte per element, 0 or 1
  UINT8: Uint8Array;
  UINT16: Uint16Array;
  UINT32: Uint32Array;
  UINT64: BigUint64Array;
  INT8: Int8Array;
  INT16: Int16Array;
  INT32: Int32Array;
  INT64: BigInt64Array;
  FP16: Uint16Array; // IEEE 754 half-precision bit patterns
  BF16: Uint16Array; // bfloat16 bit patterns
  FP32: Float32Array;
  FP64: Float64Array;
}

export type TypedArray = TypedArrayOf[FixedDatatype];

/** What a tensor's data may be: a typed array for fixed-size datatypes, byte strings for BYTES. */
export type TensorData = TypedArray | BytesElements;

type TypedArrayConstructor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** Constructor of the typed array for each fixed-size datatype. */
export const TYPED_ARRAY: { readonly [D in FixedDatatype]: TypedArrayConstructor } = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
} as const;

/** Size in bytes of one element; BYTES has no fixed size (undefined). */
export function elementSize(datatype: Datatype): number | undefined {
  return datatype === 'BYTES' ? undefined : TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
}

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Datatypes whose JSON elements are integers held as bigint (exact beyond 2^53). */
export function isBigIntDatatype(datatype: Datatype): datatype is 'INT64' | 'UINT64' {
  return datatype === 'INT64' || datatype === 'UINT64';
}

/** Number of elements a shape describes (1 for a scalar shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
