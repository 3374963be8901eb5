import { describe, it, expect } from 'vitest';
import { decodeBytesElements, encodeBytesElements, tensorDataFromBytes, tensorDataToBytes } from './tensor-bytes.ts';
import { caught } from './__fixtures__/errors.ts';
import { ownsBuffer, sampleTensors } from './__fixtures__/tensors.ts';

const utf8 = new TextEncoder();


describe('BYTES elements', () => {
  it('are copies owning their buffers even when decoded from a pooled Node Buffer (whose slice() is a view)', () => {
    const pooled = Buffer.from(encodeBytesElements([utf8.encode('ab'), utf8.encode('cde')]));
    const elements = decodeBytesElements(pooled, 2);
    pooled.fill(0);
    expect(elements.map((e) => new TextDecoder().decode(e))).toEqual(['ab', 'cde']);
    expect(elements.every((e) => e.constructor === Uint8Array && e.byteOffset === 0 && e.buffer.byteLength === e.length)).toBe(true);
  });

  it('encodes each element as a little-endian u32 length and its bytes', () => {
    const bytes = encodeBytesElements([utf8.encode('ab'), new Uint8Array([]), new Uint8Array([0xff])]);
    expect([...bytes]).toEqual([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 1, 0, 0, 0, 0xff]);
    expect(ownsBuffer(bytes)).toBe(true);
  });

  it('decodes back to owned copies, with or without a count', () => {
    const elements = [utf8.encode('héllo'), new Uint8Array([]), new Uint8Array([0, 255, 7])];
    const bytes = encodeBytesElements(elements);
    for (const decoded of [decodeBytesElements(bytes), decodeBytesElements(bytes, 3)]) {
      expect(decoded).toEqual(elements);
      expect(ownsBuffer(decoded)).toBe(true);
    }
    expect(decodeBytesElements(new Uint8Array(0), 0)).toEqual([]);
  });

  it('decodes from an unaligned view of a larger buffer', () => {
    const inner = encodeBytesElements([utf8.encode('xyz'), utf8.encode('q')]);
    const pool = new Uint8Array(inner.length + 3);
    pool.set(inner, 3);
    const decoded = decodeBytesElements(pool.subarray(3), 2);
    expect(decoded.map((e) => new TextDecoder().decode(e))).toEqual(['xyz', 'q']);
    pool.fill(0);
    expect(new TextDecoder().decode(decoded[0])).toBe('xyz'); // copies, not views
  });

  it.each([
    [new Uint8Array([1, 0]), undefined, 'truncated length prefix at byte 0'],
    [new Uint8Array([5, 0, 0, 0, 1, 2]), undefined, 'declares 5 bytes at byte 0 but only 2 remain'],
    [encodeBytesElements([new Uint8Array([1]), new Uint8Array([2])]), 1, 'more than the 1 BYTES elements'],
    [encodeBytesElements([new Uint8Array([1])]), 2, 'holds 1 BYTES elements but its shape describes 2'],
  ])('rejects malformed data %#', (bytes, count, message) => {
    const e = caught(() => decodeBytesElements(bytes, count));
    expect(e.reason).toBe('INPUT_DATA_MISMATCH');
    expect(e.message).toContain(message);
  });
});

describe('tensorDataToBytes / tensorDataFromBytes', () => {
  it('round-trips every datatype through wire bytes at unaligned offsets, into owned arrays', () => {
    for (const t of sampleTensors()) {
      const wire = tensorDataToBytes(t.datatype, t.data);
      for (const offset of [0, 1, 3, 5]) {
        const pool = new Uint8Array(wire.length + offset + 2);
        pool.set(wire, offset);
        const decoded = tensorDataFromBytes(t.datatype, pool.subarray(offset, offset + wire.length), t.shape, `input '${t.name}'`);
        expect(decoded, t.datatype).toEqual(t.data);
        expect(ownsBuffer(decoded), t.datatype).toBe(true);
        pool.fill(0xee); // the decoded tensor must not alias the pool
        expect(decoded, t.datatype).toEqual(t.data);
      }
    }
  });

  it('writes little-endian bytes', () => {
    expect([...tensorDataToBytes('INT32', new Int32Array([1, -2]))]).toEqual([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    expect([...tensorDataToBytes('FP16', new Uint16Array([0x3c00]))]).toEqual([0x00, 0x3c]);
    expect([...tensorDataToBytes('BOOL', new Uint8Array([1, 0]))]).toEqual([1, 0]);
    expect([...tensorDataToBytes('FP32', new Float32Array([1]))]).toEqual([0, 0, 0x80, 0x3f]);
  });

  it('views a subarray exactly, not its whole buffer', () => {
    const whole = new Int16Array([1, 2, 3, 4]);
    expect([...tensorDataToBytes('INT16', whole.subarray(1, 3))]).toEqual([2, 0, 3, 0]);
  });

  it('rejects a byte length that does not fit the shape', () => {
    const e = caught(() => tensorDataFromBytes('FP32', new Uint8Array(10), [2, 2], "input 'x'"));
    expect(e.reason).toBe('INPUT_DATA_MISMATCH');
    expect(e.message).toBe("input 'x' has shape [2,2] of FP32, which takes 16 bytes (4 × 4), but its binary data has 10 bytes");
  });

  it('rejects BOOL bytes other than 0 and 1', () => {
    const e = caught(() => tensorDataFromBytes('BOOL', new Uint8Array([1, 0, 2]), [3], "input 'b'"));
    expect(e.reason).toBe('INPUT_DATA_MISMATCH');
    expect(e.message).toBe("input 'b' (BOOL) element 2 is the byte 2; expected 0 (false) or 1 (true)");
  });

  it('uses the given reason', () => {
    expect(caught(() => tensorDataFromBytes('INT8', new Uint8Array(1), [2], "output 'y'", 'MALFORMED_RESPONSE')).reason).toBe('MALFORMED_RESPONSE');
  });
});
