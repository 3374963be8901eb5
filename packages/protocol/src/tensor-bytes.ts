// Tensor data as raw bytes, the encoding shared by the binary tensor data extension and gRPC raw
// contents: little-endian, row-major, no padding; BOOL one byte (0/1); a BYTES element is a
// 4-byte little-endian unsigned length followed by that many bytes. Runs in Node and browsers.
import { TYPED_ARRAY } from './datatypes.ts';
import type { BytesElements, Datatype, FixedDatatype, TensorData, TypedArray } from './datatypes.ts';
import { SibylError } from './errors.ts';
import type { ErrorReason } from './errors.ts';

/** Whether this machine stores typed array elements little-endian (every mainstream platform). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses the bytes of each `size`-byte element in place (big-endian hosts only). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/**
 * A copy of `bytes[start, end)` in a plain Uint8Array owning its buffer. Not `bytes.slice()`:
 * on a Node Buffer (what HTTP bodies and gRPC messages are) slice() is a view of the pool.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

/**
 * Concatenates BYTES elements into the wire encoding: each element as a 4-byte little-endian
 * length then its bytes. Returns a fresh array owning its buffer.
 */
export function encodeBytesElements(elements: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of elements) {
    if (e.length > 0xffffffff) {
      throw new SibylError('INPUT_DATA_MISMATCH', `a BYTES element has ${e.length} bytes; at most 4294967295 fit its length prefix`);
    }
    total += 4 + e.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const e of elements) {
    view.setUint32(p, e.length, true);
    out.set(e, p + 4);
    p += 4 + e.length;
  }
  return out;
}

/**
 * Splits the wire encoding of BYTES elements into elements, each a fresh Uint8Array owning its
 * buffer. With `count`, the bytes must hold exactly that many elements. Throws
 * INPUT_DATA_MISMATCH when the bytes do not parse exactly: a truncated length prefix or
 * element, the wrong count, or bytes left over.
 */
export function decodeBytesElements(bytes: Uint8Array, count?: number): BytesElements {
  return splitBytesElements(bytes, count, 'BYTES data', 'INPUT_DATA_MISMATCH');
}

function splitBytesElements(bytes: Uint8Array, count: number | undefined, label: string, reason: ErrorReason): BytesElements {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (count !== undefined && out.length === count) {
      throw new SibylError(reason, `${label} holds more than the ${count} BYTES elements its shape describes (${bytes.length - p} bytes left over at byte ${p})`);
    }
    if (p + 4 > bytes.length) {
      throw new SibylError(reason, `${label} BYTES element ${out.length} has a truncated length prefix at byte ${p}; each element needs a 4-byte little-endian length`);
    }
    const n = view.getUint32(p, true);
    if (p + 4 + n > bytes.length) {
      throw new SibylError(reason, `${label} BYTES element ${out.length} declares ${n} bytes at byte ${p} but only ${bytes.length - p - 4} remain`);
    }
    out.push(copyBytes(bytes, p + 4, p + 4 + n));
    p += 4 + n;
  }
  if (count !== undefined && out.length !== count) {
    throw new SibylError(reason, `${label} holds ${out.length} BYTES elements but its shape describes ${count}`);
  }
  return out;
}

/**
 * The wire bytes of a tensor's data. For fixed-size datatypes on a little-endian host this is a
 * view of the typed array's memory (no copy): do not modify it, and copy it before the typed
 * array's buffer is transferred. BYTES elements are encoded into a fresh array.
 */
export function tensorDataToBytes(datatype: Datatype, data: TensorData): Uint8Array {
  if (datatype === 'BYTES') return encodeBytesElements(data as BytesElements);
  const t = data as TypedArray;
  const view = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  if (HOST_LITTLE_ENDIAN) return view;
  const copy = view.slice();
  swapBytes(copy, t.BYTES_PER_ELEMENT);
  return copy;
}

/**
 * Decodes the data of a tensor of `datatype` and `shape` from wire bytes into a fresh typed array
 * that owns its whole, correctly aligned buffer (the source may be an unaligned slice of a pooled
 * buffer; it is not retained). BYTES elements are fresh owned arrays. Throws `reason`
 * (INPUT_DATA_MISMATCH by default) naming `label` (e.g. "input 'x'") when the byte length does
 * not fit the shape, a BOOL byte is not 0 or 1, or BYTES data does not hold exactly the count.
 */
export function tensorDataFromBytes(
  datatype: Datatype,
  bytes: Uint8Array,
  shape: readonly number[],
  label = 'tensor',
  reason: ErrorReason = 'INPUT_DATA_MISMATCH',
): TensorData {
  let count = 1;
  for (let i = 0; i < shape.length; i++) count *= shape[i]!;
  if (datatype === 'BYTES') return splitBytesElements(bytes, count, label, reason);
  const ctor = TYPED_ARRAY[datatype as FixedDatatype];
  const size = ctor.BYTES_PER_ELEMENT;
  if (bytes.length !== count * size) {
    throw new SibylError(
      reason,
      `${label} has shape [${shape.join(',')}] of ${datatype}, which takes ${count * size} bytes (${count} × ${size}), but its binary data has ${bytes.length} bytes`,
    );
  }
  const out = new ctor(count);
  const raw = new Uint8Array(out.buffer);
  raw.set(bytes);
  if (datatype === 'BOOL') {
    for (let i = 0; i < raw.length; i++) {
      if (raw[i]! > 1) {
        throw new SibylError(reason, `${label} (BOOL) element ${i} is the byte ${raw[i]}; expected 0 (false) or 1 (true)`);
      }
    }
  } else if (!HOST_LITTLE_ENDIAN) {
    swapBytes(raw, size);
  }
  return out;
}
