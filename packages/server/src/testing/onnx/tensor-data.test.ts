import { describe, expect, it } from 'vitest';
import { bfloat16Bits, float16Bits, float16Value, tensorContent } from './tensor-data.ts';

describe('float16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // just below the rounding midpoint to infinity
    [65520, 0x7c00], // midpoint rounds to even: infinity
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
    [0, 0x0000],
    [-0, 0x8000],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half the smallest subnormal: tie to even (zero)
    [3 * 2 ** -25, 0x0002], // 1.5 ulp: tie to even (2)
    [1 + 2 ** -11, 0x3c00], // tie between 1 and next: even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between odd and even: even
    [2047 * 2 ** -11 + 2 ** -12, 0x3c00], // just under 1 rounds up across the exponent
  ])('%d → %i', (x, bits) => {
    expect(float16Bits(x)).toBe(bits);
  });

  it('round-trips every non-NaN half through float16Value', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16Value(bits);
      if (Number.isNaN(value)) continue;
      expect(float16Bits(value)).toBe(bits);
    }
  });
});

describe('bfloat16Bits', () => {
  it.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [3.14159, 0x4049],
    [1 + 2 ** -8, 0x3f80], // tie: even
    [1 + 3 * 2 ** -8, 0x3f82], // tie: even
    [Infinity, 0x7f80],
    [-0, 0x8000],
  ])('%d → %i', (x, bits) => {
    expect(bfloat16Bits(x)).toBe(bits);
  });

  it('keeps NaN a NaN', () => {
    const bits = bfloat16Bits(NaN);
    expect(bits & 0x7f80).toBe(0x7f80);
    expect(bits & 0x7f).not.toBe(0);
  });
});

describe('tensorContent', () => {
  it('writes fixed-size elements little-endian into raw_data', () => {
    expect(tensorContent('t', 'INT16', 2, [1, -2])).toEqual({ raw_data: new Uint8Array([1, 0, 0xfe, 0xff]) });
    expect(tensorContent('t', 'UINT64', 1, [2n ** 64n - 2n])).toEqual({
      raw_data: new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    });
    expect(tensorContent('t', 'FP32', 1, new Float32Array([1]))).toEqual({
      raw_data: new Uint8Array([0, 0, 0x80, 0x3f]),
    });
    expect(tensorContent('t', 'BOOL', 2, [true, false])).toEqual({ raw_data: new Uint8Array([1, 0]) });
    expect(tensorContent('t', 'BOOL', 3, [0, 1, 5])).toEqual({ raw_data: new Uint8Array([0, 1, 1]) });
  });

  it('rounds plain numbers for FP16 and BF16 but takes Uint16Array as bit patterns', () => {
    expect(tensorContent('t', 'FP16', 1, [1])).toEqual({ raw_data: new Uint8Array([0x00, 0x3c]) });
    expect(tensorContent('t', 'BF16', 1, [1])).toEqual({ raw_data: new Uint8Array([0x80, 0x3f]) });
    expect(tensorContent('t', 'FP16', 1, new Uint16Array([0x1234]))).toEqual({
      raw_data: new Uint8Array([0x34, 0x12]),
    });
  });

  it('writes BYTES elements as UTF-8 string_data', () => {
    expect(tensorContent('t', 'BYTES', 2, ['é', new Uint8Array([0, 255])])).toEqual({
      string_data: [new Uint8Array([0xc3, 0xa9]), new Uint8Array([0, 255])],
    });
  });

  it.each([
    ['a count that does not fit', () => tensorContent('W', 'FP32', 3, [1, 2]), /W: 2 elements given, shape holds 3/],
    ['another typed array', () => tensorContent('W', 'FP32', 1, new Float64Array(1)), /FP32 takes a Float32Array/],
    ['an unsafe 64-bit integer number', () => tensorContent('W', 'INT64', 1, [2 ** 60]), /not a safe integer/],
    ['a string for a number', () => tensorContent('W', 'INT32', 1, ['1']), /element 0 is a string/],
    ['a number for BYTES', () => tensorContent('W', 'BYTES', 1, [1]), /BYTES element 0/],
  ])('rejects %s', (_, run, message) => {
    expect(run).toThrow(message);
  });
});
