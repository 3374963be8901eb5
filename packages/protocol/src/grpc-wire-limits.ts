// REQUEST_LIMITS for a ModelInferRequest checked on its protobuf wire bytes, before a protobuf
// library decodes it. Decoding materialises every repeated element as a JavaScript value (a
// Buffer per bytes_contents entry, a decimal string per int64 with proto-loader's longs:
// String), which is where a hostile message spends the server's time and memory: 4 MB of empty
// bytes_contents took 8.5 s and 0.5 GB to decode, and the message limit is 64 MB. This walks the
// wire format once, allocating nothing, and stops at the first count over its limit.
// Field numbers are those of proto/grpc_service.proto. Runs in Node and browsers.
import { SibylError } from './errors.ts';
import { limitExceeded, REQUEST_LIMITS } from './request-limits.ts';

/** Counts carried through the walk of one message. */
interface Counts {
  bytesElements: number;
  int64Elements: number;
}

/** Thrown inside the walk when the bytes are not valid protobuf: the decoder will say why. */
const NOT_PROTOBUF = Symbol('not protobuf');

/** A position in the message's bytes; every read is bounded by the end of the enclosing message. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(end: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw NOT_PROTOBUF;
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw NOT_PROTOBUF;
  }

  /** The end of a length-delimited value whose length comes next. */
  lengthEnd(end: number): number {
    const n = this.varint(end);
    const valueEnd = this.pos + n;
    if (valueEnd > end) throw NOT_PROTOBUF;
    return valueEnd;
  }

  /** Skips a value of `wireType`. */
  skip(wireType: number, end: number): void {
    if (wireType === 0) this.varint(end);
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.pos = this.lengthEnd(end);
    else if (wireType === 5) this.pos += 4;
    else throw NOT_PROTOBUF; // groups (3, 4) are not in this protocol
    if (this.pos > end) throw NOT_PROTOBUF;
  }
}

/**
 * Calls `field(number, wireType)` for each field of the message in [r.pos, end), with r.pos at
 * the field's value; `field` either consumes the value and returns true, or returns false to
 * have it skipped.
 */
function eachField(r: Reader, end: number, field: (number: number, wireType: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.varint(end);
    const wireType = tag % 8;
    if (!field(Math.floor(tag / 8), wireType)) r.skip(wireType, end);
  }
}

/** Entries of a map field seen so far, checked against maxParameters. */
function countEntry(counts: Map<string, number>, where: string): void {
  const n = (counts.get(where) ?? 0) + 1;
  counts.set(where, n);
  if (n > REQUEST_LIMITS.maxParameters) throw limitExceeded('keys', undefined, REQUEST_LIMITS.maxParameters, where);
}

/** Elements of a repeated scalar field (packed or not) at the reader, moving past them. */
function repeatedCount(r: Reader, wireType: number, end: number): number {
  if (wireType !== 2) {
    r.skip(wireType, end);
    return 1;
  }
  // Packed varints: one element per byte below 0x80 (the last byte of each varint).
  const valueEnd = r.lengthEnd(end);
  let n = 0;
  for (let p = r.pos; p < valueEnd; p++) if (r.buf[p]! < 0x80) n++;
  r.pos = valueEnd;
  return n;
}

function scanContents(r: Reader, end: number, i: number, counts: Counts): void {
  eachField(r, end, (number, wireType) => {
    if (number === 8) {
      r.skip(wireType, end);
      counts.bytesElements++;
      if (counts.bytesElements > REQUEST_LIMITS.maxBytesElements) {
        throw limitExceeded('BYTES elements', undefined, REQUEST_LIMITS.maxBytesElements, `ModelInferRequest (up to inputs[${i}].contents.bytes_contents)`);
      }
      return true;
    }
    if (number === 3 || number === 5) {
      counts.int64Elements += repeatedCount(r, wireType, end);
      if (counts.int64Elements > REQUEST_LIMITS.maxTypedInt64Elements) {
        const e = limitExceeded('typed 64-bit integer elements', undefined, REQUEST_LIMITS.maxTypedInt64Elements, `ModelInferRequest (up to inputs[${i}].contents)`);
        throw new SibylError(e.reason, `${e.message}; send large INT64/UINT64 tensors in raw_input_contents`, { details: e.details });
      }
      return true;
    }
    return false;
  });
}

function scanInput(r: Reader, end: number, i: number, counts: Counts, maps: Map<string, number>): void {
  let dims = 0;
  eachField(r, end, (number, wireType) => {
    if (number === 3) {
      dims += repeatedCount(r, wireType, end);
      if (dims > REQUEST_LIMITS.maxDims) throw limitExceeded('dimensions', undefined, REQUEST_LIMITS.maxDims, `inputs[${i}].shape`);
      return true;
    }
    if (number === 4 && wireType === 2) {
      countEntry(maps, `inputs[${i}].parameters`);
      return false;
    }
    if (number === 5 && wireType === 2) {
      scanContents(r, r.lengthEnd(end), i, counts);
      return true;
    }
    return false;
  });
}

/**
 * Checks a ModelInferRequest's wire bytes against REQUEST_LIMITS (inputs, outputs, raw contents,
 * parameters per map, dimensions per shape, BYTES elements and typed 64-bit integers in all)
 * without decoding it. @throws SibylError REQUEST_LIMIT_EXCEEDED naming the first count over
 * its limit. Bytes that are not valid protobuf pass: the decoder reports them.
 */
export function checkGrpcInferRequestWire(bytes: Uint8Array): void {
  const r = new Reader(bytes);
  const end = bytes.length;
  const counts: Counts = { bytesElements: 0, int64Elements: 0 };
  const maps = new Map<string, number>();
  let inputs = 0;
  let outputs = 0;
  let raws = 0;
  try {
    eachField(r, end, (number, wireType) => {
      if (wireType !== 2) return false;
      if (number === 4) countEntry(maps, 'parameters');
      else if (number === 5) {
        if (++inputs > REQUEST_LIMITS.maxInputs) throw limitExceeded('inputs', undefined, REQUEST_LIMITS.maxInputs, 'ModelInferRequest');
        scanInput(r, r.lengthEnd(end), inputs - 1, counts, maps);
        return true;
      } else if (number === 6) {
        if (++outputs > REQUEST_LIMITS.maxOutputs) throw limitExceeded('outputs', undefined, REQUEST_LIMITS.maxOutputs, 'ModelInferRequest');
        eachField(r, r.lengthEnd(end), (n, w) => {
          if (n === 2 && w === 2) countEntry(maps, `outputs[${outputs - 1}].parameters`);
          return false;
        });
        return true;
      } else if (number === 7) {
        if (++raws > REQUEST_LIMITS.maxInputs) throw limitExceeded('raw_input_contents entries', undefined, REQUEST_LIMITS.maxInputs, 'ModelInferRequest');
      }
      return false;
    });
  } catch (e) {
    if (e !== NOT_PROTOBUF) throw e;
  }
}
