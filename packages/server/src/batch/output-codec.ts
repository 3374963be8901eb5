// The compact binary encoding of a stored prediction's outputs (the `outputs` BLOB of the SQLite
// prediction store). Batch jobs write millions of rows, so encoding must cost far less than the
// row's inference: one pass over the values into a chunk-wide buffer, no JSON, and the header of an
// output (name, datatype, shape) copied from the previous row when it is the same. Decoded only
// when looked up. Exact: every value comes back as it went in (numbers as float32 when every
// value of the output is a float32 exactly, else as float64; NaN and ±Infinity included).
//
// Layout, little-endian:
//   u8 format (1) · u16 output count · per output:
//     u16 name length · name (UTF-8) · u8 datatype length · datatype (ASCII) · u8 rank · u32 × rank dims
//     u8 element encoding · u32 element count · elements:
//       F32: 4 bytes each · F64: 8 bytes each · BOOL: 1 byte each
//       TEXT: per element u32 length + UTF-8 · JSON: u32 length + UTF-8 JSON of the whole array (mixed kinds)
import type { StoredOutput } from './prediction-store.ts';

const FORMAT = 1;
const ENCODING = { F32: 1, F64: 2, BOOL: 3, TEXT: 4, JSON: 5 } as const;
type Encoding = (typeof ENCODING)[keyof typeof ENCODING];

function encodingOf(data: StoredOutput['data']): Encoding {
  if (data.length === 0) return ENCODING.F32;
  const first = typeof data[0];
  let f32 = first === 'number';
  for (const v of data) {
    if (typeof v !== first) return ENCODING.JSON;
    if (f32 && Math.fround(v as number) !== v && !Number.isNaN(v)) f32 = false;
  }
  return first === 'number' ? (f32 ? ENCODING.F32 : ENCODING.F64) : first === 'boolean' ? ENCODING.BOOL : ENCODING.TEXT;
}

/** Encodes the outputs of many rows into one growing buffer; `encode` returns a view of its bytes. */
export class OutputEncoder {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  /** Header bytes of the previous row's outputs, by position, with what they encode. */
  private readonly headers: { output: StoredOutput; bytes: Buffer }[] = [];

  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Forgets the rows encoded so far (their views become invalid); the buffer is reused. */
  reset(): void {
    this.pos = 0;
  }

  /** The encoded bytes of one row's outputs: a view valid until the next reset(). */
  encode(outputs: readonly StoredOutput[]): Buffer {
    const start = this.pos;
    this.reserve(3);
    this.buf[this.pos] = FORMAT;
    this.view.setUint16(this.pos + 1, outputs.length, true);
    this.pos += 3;
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i]!;
      const header = this.headerOf(i, output);
      this.reserve(header.length);
      header.copy(this.buf, this.pos);
      this.pos += header.length;
      this.writeElements(output.data);
    }
    return this.buf.subarray(start, this.pos);
  }

  private headerOf(i: number, output: StoredOutput): Buffer {
    const cached = this.headers[i];
    if (cached !== undefined && sameHeader(cached.output, output)) return cached.bytes;
    const name = Buffer.from(output.name, 'utf8');
    const datatype = Buffer.from(output.datatype, 'latin1');
    const bytes = Buffer.alloc(2 + name.length + 1 + datatype.length + 1 + 4 * output.shape.length);
    let at = bytes.writeUInt16LE(name.length, 0);
    at += name.copy(bytes, at);
    at = bytes.writeUInt8(datatype.length, at);
    at += datatype.copy(bytes, at);
    at = bytes.writeUInt8(output.shape.length, at);
    for (const d of output.shape) at = bytes.writeUInt32LE(d, at);
    this.headers[i] = { output: { ...output, shape: [...output.shape], data: [] }, bytes };
    return bytes;
  }

  private writeElements(data: StoredOutput['data']): void {
    const encoding = encodingOf(data);
    this.reserve(5);
    this.buf[this.pos] = encoding;
    this.view.setUint32(this.pos + 1, data.length, true);
    this.pos += 5;
    const n = data.length;
    switch (encoding) {
      case ENCODING.F32: {
        this.reserve(4 * n);
        for (let i = 0; i < n; i++, this.pos += 4) this.view.setFloat32(this.pos, data[i] as number, true);
        return;
      }
      case ENCODING.F64: {
        this.reserve(8 * n);
        for (let i = 0; i < n; i++, this.pos += 8) this.view.setFloat64(this.pos, data[i] as number, true);
        return;
      }
      case ENCODING.BOOL: {
        this.reserve(n);
        for (let i = 0; i < n; i++) this.buf[this.pos++] = data[i] ? 1 : 0;
        return;
      }
      case ENCODING.TEXT: {
        for (const s of data as string[]) this.writeText(s);
        return;
      }
      case ENCODING.JSON:
        this.writeText(JSON.stringify(data));
    }
  }

  private writeText(s: string): void {
    this.reserve(4 + 3 * s.length);
    const written = this.buf.write(s, this.pos + 4, 'utf8');
    this.view.setUint32(this.pos, written, true);
    this.pos += 4 + written;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }
}

function sameHeader(a: StoredOutput, b: StoredOutput): boolean {
  if (a.name !== b.name || a.datatype !== b.datatype || a.shape.length !== b.shape.length) return false;
  for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return false;
  return true;
}

/**
 * Decodes what OutputEncoder.encode wrote.
 * @throws Error when the bytes are not in this format (a store written by something else).
 */
export function decodeOutputs(bytes: Uint8Array): StoredOutput[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] !== FORMAT) throw new Error(`stored outputs are in format ${buf[0]}, not ${FORMAT}`);
  const count = buf.readUInt16LE(1);
  let at = 3;
  const outputs: StoredOutput[] = [];
  for (let o = 0; o < count; o++) {
    const nameLength = buf.readUInt16LE(at);
    const name = buf.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const datatypeLength = buf[at]!;
    const datatype = buf.toString('latin1', at + 1, at + 1 + datatypeLength);
    at += 1 + datatypeLength;
    const rank = buf[at++]!;
    const shape: number[] = [];
    for (let d = 0; d < rank; d++, at += 4) shape.push(buf.readUInt32LE(at));
    const encoding = buf[at]! as Encoding;
    const n = buf.readUInt32LE(at + 1);
    at += 5;
    let data: StoredOutput['data'];
    switch (encoding) {
      case ENCODING.F32:
        data = Array.from({ length: n }, (_, i) => buf.readFloatLE(at + 4 * i));
        at += 4 * n;
        break;
      case ENCODING.F64:
        data = Array.from({ length: n }, (_, i) => buf.readDoubleLE(at + 8 * i));
        at += 8 * n;
        break;
      case ENCODING.BOOL:
        data = Array.from({ length: n }, (_, i) => buf[at + i] === 1);
        at += n;
        break;
      case ENCODING.TEXT:
        data = [];
        for (let i = 0; i < n; i++) {
          const length = buf.readUInt32LE(at);
          data.push(buf.toString('utf8', at + 4, at + 4 + length));
          at += 4 + length;
        }
        break;
      case ENCODING.JSON: {
        const length = buf.readUInt32LE(at);
        data = JSON.parse(buf.toString('utf8', at + 4, at + 4 + length)) as StoredOutput['data'];
        at += 4 + length;
        break;
      }
      default:
        throw new Error(`stored output ${name} has an unknown element encoding ${encoding as number}`);
    }
    outputs.push({ name, datatype, shape, data });
  }
  return outputs;
}
