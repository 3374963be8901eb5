// Tensor data ⇄ JSON: decodes a (flat or nested) JSON array straight into the typed array of a
// datatype, and writes a typed array as the text of a flat JSON array. The hot path of the JSON
// codec: no intermediate arrays, no regular expressions, no per-element closures.
// Internal to the protocol package (json-codec.ts is the public face).
import { TYPED_ARRAY } from './datatypes.ts';
import type { BytesElements, Datatype, TensorData, TypedArray } from './datatypes.ts';
import { SibylError } from './errors.ts';
import type { ErrorReason } from './errors.ts';
import { fromBFloat16Bits, fromFloat16Bits, toBFloat16Bits, toFloat16Bits } from './fp16.ts';

/**
 * Thrown (as a value, never to callers outside the codec) when the fast `JSON.parse` pass met an
 * integer that JSON.parse may have rounded (beyond 2^53) where exactness matters: INT64/UINT64
 * data or a parameter. The codec then re-parses the text losslessly and decodes again.
 */
export const NEED_LOSSLESS: { readonly needLossless: true } = Object.freeze({ needLossless: true });

/** What a data decoder needs to know to decode and to word its errors. */
export interface DataContext {
  /** Which tensor, for messages: "input 'x'" or "output 'y'". */
  kind: 'input' | 'output';
  name: string;
  datatype: Datatype;
  shape: readonly number[];
  /** The document came from the lossless parser: unsafe integers are bigint, never NEED_LOSSLESS. */
  lossless: boolean;
  /** Accept null as NaN in float data (responses: the encoder writes non-finite floats as null). */
  nullIsNaN: boolean;
  /** Reason of every error thrown (INPUT_DATA_MISMATCH for requests). */
  reason: ErrorReason;
}

const MAX_SHOWN = 40;

/** A short, human-readable rendering of a JSON value for error messages (truncated). */
export function describeValue(v: unknown): string {
  let s: string;
  if (typeof v === 'string' && v.length > MAX_SHOWN) v = v.slice(0, MAX_SHOWN); // no need to quote a megabyte
  if (typeof v === 'bigint') s = v.toString();
  else if (v === undefined) s = 'undefined';
  else if (typeof v === 'number') s = String(v);
  else {
    try {
      s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

/** "a string", "an array", "null", … for messages about the wrong kind of JSON value. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  if (t === 'object') return 'an object';
  if (t === 'bigint' || t === 'number') return `the number ${describeValue(v)}`;
  if (t === 'string') return `the string ${describeValue(v)}`;
  if (t === 'boolean') return `${String(v)}`;
  return t;
}

/** The range of each integer datatype that fits a JavaScript number. */
export const INT_RANGE = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
} as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function expectation(datatype: Datatype): string {
  switch (datatype) {
    case 'BOOL':
      return 'true or false';
    case 'BYTES':
      return 'a string';
    case 'INT64':
      return `an integer in [${INT64_MIN}, ${INT64_MAX}] (a JSON number or a decimal string)`;
    case 'UINT64':
      return `an integer in [0, ${UINT64_MAX}] (a JSON number or a decimal string)`;
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const [min, max] = INT_RANGE[datatype];
      return `an integer in [${min}, ${max}]`;
    }
    default:
      return 'a number';
  }
}

function badElement(ctx: DataContext, index: number, v: unknown): SibylError {
  return new SibylError(
    ctx.reason,
    `${ctx.kind} '${ctx.name}' (${ctx.datatype}) element ${index} is ${describeValue(v)}; expected ${expectation(ctx.datatype)}`,
  );
}

function countMismatch(ctx: DataContext, count: number, actual: number): SibylError {
  return new SibylError(
    ctx.reason,
    `${ctx.kind} '${ctx.name}' has shape [${ctx.shape.join(',')}], which holds ${count} element${count === 1 ? '' : 's'}, but data has ${actual}`,
  );
}

function countLeaves(a: readonly unknown[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    n += Array.isArray(v) ? countLeaves(v) : 1;
  }
  return n;
}

// Each fill function writes the leaves of `src` (recursing into nested arrays, row-major) from
// `pos` on and returns the position after the last leaf. Writes past the end of a typed array
// are dropped by the engine; the caller compares the returned position with the count.

function fillFloat(src: readonly unknown[], out: Float32Array | Float64Array, pos: number, ctx: DataContext): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v === 'number') out[pos++] = v;
    else if (Array.isArray(v)) pos = fillFloat(v, out, pos, ctx);
    else {
      out[pos] = otherFloat(v, pos, ctx);
      pos++;
    }
  }
  return pos;
}

function otherFloat(v: unknown, pos: number, ctx: DataContext): number {
  if (typeof v === 'bigint') return Number(v);
  if (v === null && ctx.nullIsNaN) return NaN;
  throw badElement(ctx, pos, v);
}

function fillHalf(src: readonly unknown[], out: Uint16Array, pos: number, ctx: DataContext, bf16: boolean): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (Array.isArray(v)) {
      pos = fillHalf(v, out, pos, ctx, bf16);
      continue;
    }
    const x = typeof v === 'number' ? v : otherFloat(v, pos, ctx);
    out[pos++] = bf16 ? toBFloat16Bits(x) : toFloat16Bits(x);
  }
  return pos;
}

type SmallIntArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

function fillInt(src: readonly unknown[], out: SmallIntArray, pos: number, ctx: DataContext, min: number, max: number): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v === 'number' && v >= min && v <= max && Number.isInteger(v)) out[pos++] = v;
    else if (Array.isArray(v)) pos = fillInt(v, out, pos, ctx, min, max);
    else throw badElement(ctx, pos, v);
  }
  return pos;
}

function fillBigInt(src: readonly unknown[], out: BigInt64Array | BigUint64Array, pos: number, ctx: DataContext, min: bigint, max: bigint): number {
  const unsigned = min === 0n;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v === 'number' && Number.isSafeInteger(v) && (v >= 0 || !unsigned)) out[pos++] = BigInt(v);
    else if (Array.isArray(v)) pos = fillBigInt(v, out, pos, ctx, min, max);
    else {
      out[pos] = otherBigInt(v, pos, ctx, min, max);
      pos++;
    }
  }
  return pos;
}

function otherBigInt(v: unknown, pos: number, ctx: DataContext, min: bigint, max: bigint): bigint {
  let b: bigint | undefined;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'string') b = parseDecimal(v);
  else if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) && !ctx.lossless) {
    // JSON.parse may have rounded this integer: decode the document again, exactly.
    throw NEED_LOSSLESS;
  }
  // Unsafe integers left in a lossless document were written with a fraction or an exponent
  // (e.g. 1e19): not exact, so refused rather than guessed.
  if (b === undefined || b < min || b > max) throw badElement(ctx, pos, v);
  return b;
}

/** A decimal integer string ("-123", as protobuf JSON writes int64) as bigint; undefined if it is not one. */
function parseDecimal(s: string): bigint | undefined {
  const n = s.length;
  let i = s.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (n === i || n > 42) return undefined; // 42: generous for leading zeros, and keeps BigInt() cheap
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return BigInt(s);
}

function fillBool(src: readonly unknown[], out: Uint8Array, pos: number, ctx: DataContext): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v === true) out[pos++] = 1;
    else if (v === false) out[pos++] = 0;
    else if (Array.isArray(v)) pos = fillBool(v, out, pos, ctx);
    else throw badElement(ctx, pos, v);
  }
  return pos;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function fillBytes(src: readonly unknown[], out: Uint8Array[], pos: number, ctx: DataContext): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    // TextEncoder.encode returns a fresh array owning its whole buffer.
    if (typeof v === 'string') out[pos++] = utf8Encoder.encode(v);
    else if (Array.isArray(v)) pos = fillBytes(v, out, pos, ctx);
    else throw badElement(ctx, pos, v);
  }
  return pos;
}

/**
 * Decodes JSON tensor data (flat or nested; only the total count is checked) into a fresh typed
 * array of `ctx.datatype` that owns its whole buffer (or, for BYTES, fresh owned UTF-8 arrays).
 * Throws `ctx.reason` for a count that differs from `count` or a bad element, and NEED_LOSSLESS
 * when an INT64/UINT64 element needs the exact re-parse.
 */
export function readJsonData(data: readonly unknown[], count: number, ctx: DataContext): TensorData {
  // A top-level length equal to the count bounds the allocation by the document's size; any
  // other length is nested (or wrong), so count the leaves before allocating.
  if (data.length !== count) {
    const leaves = countLeaves(data);
    if (leaves !== count) throw countMismatch(ctx, count, leaves);
  }
  const dt = ctx.datatype;
  let out: TensorData;
  let end: number;
  switch (dt) {
    case 'FP32':
    case 'FP64': {
      const a = new TYPED_ARRAY[dt](count) as Float32Array | Float64Array;
      end = fillFloat(data, a, 0, ctx);
      out = a;
      break;
    }
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const a = new TYPED_ARRAY[dt](count) as SmallIntArray;
      const [min, max] = INT_RANGE[dt];
      end = fillInt(data, a, 0, ctx, min, max);
      out = a;
      break;
    }
    case 'INT64': {
      const a = new BigInt64Array(count);
      end = fillBigInt(data, a, 0, ctx, INT64_MIN, INT64_MAX);
      out = a;
      break;
    }
    case 'UINT64': {
      const a = new BigUint64Array(count);
      end = fillBigInt(data, a, 0, ctx, 0n, UINT64_MAX);
      out = a;
      break;
    }
    case 'BOOL': {
      const a = new Uint8Array(count);
      end = fillBool(data, a, 0, ctx);
      out = a;
      break;
    }
    case 'FP16':
    case 'BF16': {
      const a = new Uint16Array(count);
      end = fillHalf(data, a, 0, ctx, dt === 'BF16');
      out = a;
      break;
    }
    case 'BYTES': {
      const a: Uint8Array[] = new Array<Uint8Array>(count);
      end = fillBytes(data, a, 0, ctx);
      out = a;
      break;
    }
  }
  // Only nested data whose top-level length happened to equal the count gets here with a
  // different number of leaves.
  if (end !== count) throw countMismatch(ctx, count, end);
  return out;
}

function joinFloatsSlow(a: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (i > 0) s += ',';
    s += Number.isFinite(x) ? String(x) : 'null';
  }
  return s;
}

function joinHalfs(a: Uint16Array, bf16: boolean): string {
  let s = '';
  for (let i = 0; i < a.length; i++) {
    const x = bf16 ? fromBFloat16Bits(a[i]!) : fromFloat16Bits(a[i]!);
    if (i > 0) s += ',';
    s += Number.isFinite(x) ? String(x) : 'null';
  }
  return s;
}

/**
 * The elements of a tensor's data as the text between the brackets of a flat JSON array.
 * Floats print as JavaScript numbers (shortest text that reads back to the same double; a
 * float32 prints its exact double value), non-finite floats as null; INT64/UINT64 exactly;
 * BOOL as true/false; FP16/BF16 as numbers; BYTES as JSON strings of their UTF-8 text.
 * `data` must be the datatype's typed array (see checkTensorData).
 *
 * A BYTES element that is not valid UTF-8 has no faithful JSON spelling (V2 JSON carries BYTES
 * as strings): rather than replace its bytes with U+FFFD, this throws BYTES_NOT_TEXT naming
 * `label` and the element (`firstIndex` + its index in `data`, for slices), which tells the caller to ask for binary data instead.
 */
export function writeJsonData(datatype: Datatype, data: TensorData, label = 'a tensor', firstIndex = 0): string {
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const s = (data as Float32Array).join(',');
      // NaN and ±Infinity are the only texts with these letters; JSON has no spelling for them.
      if (s.indexOf('N') === -1 && s.indexOf('I') === -1) return s;
      return joinFloatsSlow(data as Float32Array);
    }
    case 'BOOL': {
      const a = data as Uint8Array;
      let s = '';
      for (let i = 0; i < a.length; i++) s += i === 0 ? (a[i] ? 'true' : 'false') : a[i] ? ',true' : ',false';
      return s;
    }
    case 'FP16':
    case 'BF16':
      return joinHalfs(data as Uint16Array, datatype === 'BF16');
    case 'BYTES': {
      const a = data as BytesElements;
      let s = '';
      for (let i = 0; i < a.length; i++) {
        if (i > 0) s += ',';
        s += JSON.stringify(textOf(a[i]!, firstIndex + i, label));
      }
      return s;
    }
    default:
      // Integers, including INT64/UINT64: bigint text is exact.
      return (data as TypedArray).join(',');
  }
}

function textOf(bytes: Uint8Array, index: number, label: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new SibylError(
      'BYTES_NOT_TEXT',
      `${label} (BYTES) element ${index} is not valid UTF-8, so JSON cannot carry it (JSON carries BYTES as text); ask for it as binary data (the binary tensor data extension's binary_data_output, or gRPC)`,
    );
  }
}

/**
 * Checks that a tensor about to be encoded holds what its datatype and shape promise: the
 * datatype's typed array (an array of Uint8Array for BYTES) with product(shape) elements.
 * Returns an error message, or undefined when it fits.
 */
export function checkTensorData(label: string, datatype: Datatype, shape: readonly number[], data: TensorData): string | undefined {
  let count = 1;
  for (let i = 0; i < shape.length; i++) count *= shape[i]!;
  if (datatype === 'BYTES') {
    if (!Array.isArray(data)) return `${label} (BYTES) data must be an array of Uint8Array`;
  } else {
    const ctor = TYPED_ARRAY[datatype];
    if (ctor === undefined) return `${label} has unknown datatype ${describeValue(datatype)}`;
    if (!(data instanceof ctor)) {
      const got = (data as object | null)?.constructor?.name ?? typeof data;
      return `${label} (${datatype}) data is of type ${got}; expected ${ctor.name}`;
    }
  }
  if (data.length !== count) {
    return `${label} has shape [${shape.join(',')}], which holds ${count} element${count === 1 ? '' : 's'}, but data has ${data.length}`;
  }
  return undefined;
}
