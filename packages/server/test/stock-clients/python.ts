// The slice of Python the stock clients lean on, re-implemented so their requests and parsing can
// be replayed in TypeScript:
//
// - JSON writers: tritonclient uses python-rapidjson `json.dumps` (compact, ensure_ascii=True by
//   default, so every non-ASCII character is a \uXXXX escape and len(str) == byte length);
//   KServe uses `orjson.dumps` (compact, UTF-8 as is). Both write a Python float with its
//   shortest round-trip digits and a ".0" on integral values ("1.0", "0.10000000149011612"),
//   and a Python int exactly, whatever its size. Key order is dict insertion order.
// - JSON readers (rapidjson.loads / orjson.loads): integers stay exact Python ints (bigint here
//   when beyond 2^53), other numbers are floats.
// - numpy: ndarray with a dtype, shape, tobytes() (native little-endian, row-major),
//   frombuffer, np.array(list, dtype), reshape, flatten + item(), and object arrays of
//   bytes/str for BYTES; tritonclient.utils serialize_byte_tensor / deserialize_bytes_tensor
//   (4-byte little-endian length, then the bytes, per element).
import { TextDecoder, TextEncoder } from 'node:util';

/** A Python float (written with a ".0" when integral); plain numbers and bigints are Python ints. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python bytes object (distinct from str). */
export type PyBytes = Uint8Array;

export type PyValue = null | boolean | number | bigint | string | PyFloat | PyValue[] | { [key: string]: PyValue };

/** What json.loads gives back: ints exact (number when safe, bigint beyond), floats as number. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

function formatFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`Out of range float values are not JSON compliant: ${x}`);
  if (Object.is(x, -0)) return '-0.0';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return String(x).replace('e+', 'e');
}

function writeString(s: string, ensureAscii: boolean): string {
  const json = JSON.stringify(s);
  if (!ensureAscii) return json;
  return json.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0'));
}

/** json.dumps of the client's library: compact; `ensureAscii` for python-rapidjson, not for orjson. */
export function dumps(v: PyValue, options: { ensureAscii: boolean }): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`a Python int must be an integer, got ${v}; use PyFloat for floats`);
    return String(v);
  }
  if (typeof v === 'string') return writeString(v, options.ensureAscii);
  if (v instanceof PyFloat) return formatFloat(v.value);
  if (Array.isArray(v)) return '[' + v.map((x) => dumps(x, options)).join(',') + ']';
  return '{' + Object.entries(v).map(([k, x]) => writeString(k, options.ensureAscii) + ':' + dumps(x, options)).join(',') + '}';
}

/** json.loads with Python's number semantics (integers exact). Strict JSON. */
export function loads(text: string | Uint8Array): JsonValue {
  const s = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  let i = 0;
  const ws = (): void => {
    while (i < s.length && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at offset ${i} of ${JSON.stringify(s.slice(0, 200))}`);
  };
  const value = (): JsonValue => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (s[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail('expected a key');
        const key = str();
        ws();
        if (s[i] !== ':') fail("expected ':'");
        i++;
        obj[key] = value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (s[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (s.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (s.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (s.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i, i + 400));
    if (m === null) return fail('unexpected character');
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
    if (i >= s.length) fail('unterminated string');
    i++;
    return JSON.parse(s.slice(start, i)) as string;
  };
  const result = value();
  ws();
  if (i !== s.length) fail('extra data');
  return result;
}

// ---------------------------------------------------------------------------------------------
// numpy

export type Datatype = 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP32' | 'FP64' | 'BYTES';

type Numeric = Exclude<Datatype, 'BYTES'>;
type TypedArray = Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

const CTOR: Record<Numeric, { new (buffer: ArrayBuffer, byteOffset?: number, length?: number): TypedArray; BYTES_PER_ELEMENT: number }> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/**
 * A numpy ndarray, named by the Triton datatype numpy maps to (np_to_triton_dtype is 1:1 for
 * these). BYTES arrays are dtype=object arrays whose elements are Python bytes or str.
 */
export interface NdArray {
  readonly dtype: Datatype;
  readonly shape: readonly number[];
  readonly values: TypedArray | readonly (PyBytes | string)[];
}

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** np.array(values, dtype).reshape(shape), values already flat in row-major order. */
export function ndarray(dtype: Datatype, shape: readonly number[], values: readonly (number | bigint | boolean | string | PyBytes)[]): NdArray {
  if (values.length !== size(shape)) throw new Error(`cannot reshape array of size ${values.length} into shape (${shape.join(', ')})`);
  if (dtype === 'BYTES') return { dtype, shape, values: values as (PyBytes | string)[] };
  const Ctor = CTOR[dtype];
  const arr = new Ctor(new ArrayBuffer(values.length * Ctor.BYTES_PER_ELEMENT));
  values.forEach((v, k) => {
    if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) arr[k] = BigInt(v as number | bigint);
    else arr[k] = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  });
  return { dtype, shape, values: arr };
}

/** ndarray.reshape: the element count must not change. */
export function reshape(a: NdArray, shape: readonly JsonValue[]): NdArray {
  const dims = shape.map(Number);
  if (size(dims) !== a.values.length) throw new Error(`cannot reshape array of size ${a.values.length} into shape (${dims.join(', ')})`);
  return { ...a, shape: dims };
}

/** ndarray.tobytes() for a numeric array (native order: little-endian here). */
export function tobytes(a: NdArray): Uint8Array {
  if (a.dtype === 'BYTES') throw new Error('tobytes of an object array gives pointers; use serializeByteTensor');
  const v = a.values as TypedArray;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

/** [val.item() for val in a.flatten()]: Python scalars. */
export function items(a: NdArray): PyValue[] {
  const out: PyValue[] = [];
  for (const v of Array.from(a.values as ArrayLike<number | bigint | string | PyBytes>)) {
    if (a.dtype === 'BOOL') out.push(v !== 0);
    else if (a.dtype === 'FP32' || a.dtype === 'FP64') out.push(new PyFloat(v as number));
    else if (typeof v === 'bigint') out.push(Number.isSafeInteger(Number(v)) ? Number(v) : v);
    else if (typeof v === 'number') out.push(v);
    else out.push(v as string); // str element; bytes elements are decoded by the callers
  }
  return out;
}

/** np.frombuffer(buf, dtype) (a copy, so the typed array is aligned). */
export function frombuffer(buf: Uint8Array, dtype: Numeric): NdArray {
  const Ctor = CTOR[dtype];
  if (buf.length % Ctor.BYTES_PER_ELEMENT !== 0) throw new Error(`buffer size must be a multiple of element size`);
  const copy = new Uint8Array(buf); // a real copy (Buffer#slice would be a view on a pooled buffer)
  return { dtype, shape: [buf.length / Ctor.BYTES_PER_ELEMENT], values: new Ctor(copy.buffer, 0, buf.length / Ctor.BYTES_PER_ELEMENT) };
}

/** np.array(list, dtype=triton_to_np_dtype(datatype)) of a flat JSON list. */
export function fromList(list: readonly JsonValue[], dtype: Datatype): NdArray {
  if (dtype === 'BYTES') {
    return { dtype, shape: [list.length], values: list.map((x) => (typeof x === 'string' ? x : String(x))) };
  }
  return ndarray(dtype, [list.length], list as (number | bigint | boolean)[]);
}

const utf8 = new TextEncoder();

/** tritonclient.utils.serialize_byte_tensor (and KServe's copy of it). */
export function serializeByteTensor(a: NdArray): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const v of a.values as readonly (PyBytes | string)[]) {
    // "If directly passing bytes to BYTES type, don't convert it to str"
    const s = typeof v === 'string' ? utf8.encode(v) : v;
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, s.length, true); // struct.pack("<I", len(s))
    parts.push(len, s);
  }
  return Buffer.concat(parts);
}

/** tritonclient.utils.deserialize_bytes_tensor: a flat object array of bytes. */
export function deserializeBytesTensor(encoded: Uint8Array): NdArray {
  const strs: PyBytes[] = [];
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  let offset = 0;
  while (offset < encoded.length) {
    const l = view.getUint32(offset, true); // struct.unpack_from("<I", val_buf, offset)
    offset += 4;
    if (offset + l > encoded.length) throw new Error('unpack_from requires a buffer of at least ' + (offset + l) + ' bytes');
    strs.push(new Uint8Array(encoded.subarray(offset, offset + l)));
    offset += l;
  }
  return { dtype: 'BYTES', shape: [strs.length], values: strs };
}

/** Elements of an object array decoded as UTF-8 (bytes) or taken as is (str). */
export function asStrings(a: NdArray): string[] {
  const dec = new TextDecoder('utf-8', { fatal: true });
  return (a.values as readonly (PyBytes | string)[]).map((v) => (typeof v === 'string' ? v : dec.decode(v)));
}

/** Numeric elements as JS numbers (floats, small ints) — for comparisons in tests. */
export function asNumbers(a: NdArray): number[] {
  return Array.from(a.values as ArrayLike<number>, Number);
}

/** INT64/UINT64 elements as exact bigints. */
export function asBigInts(a: NdArray): bigint[] {
  return Array.from(a.values as ArrayLike<bigint>, (v) => BigInt(v));
}
