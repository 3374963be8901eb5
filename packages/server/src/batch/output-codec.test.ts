import { describe, expect, it } from 'vitest';
import { OutputEncoder, decodeOutputs } from './output-codec.ts';
import type { StoredOutput } from './prediction-store.ts';

const cases: { what: string; outputs: StoredOutput[] }[] = [
  { what: 'float32-exact numbers', outputs: [{ name: 'p', datatype: 'FP32', shape: [2], data: [0.10000000149011612, -3] }] },
  { what: 'numbers that need float64', outputs: [{ name: 'v', datatype: 'FP64', shape: [3], data: [0.1, 9007199254740991, -1e300] }] },
  { what: 'non-finite numbers', outputs: [{ name: 'v', datatype: 'FP32', shape: [3], data: [Number.NaN, Infinity, -Infinity] }] },
  { what: 'booleans', outputs: [{ name: 'flags', datatype: 'BOOL', shape: [1, 3], data: [true, false, true] }] },
  { what: 'text', outputs: [{ name: 'names', datatype: 'BYTES', shape: [3], data: ['', 'ünïcödé', '🦉 owl'] }] },
  { what: 'mixed kinds', outputs: [{ name: 'm', datatype: 'BYTES', shape: [3], data: ['a', 1, true] }] },
  { what: 'empty and several outputs', outputs: [{ name: 'e', datatype: 'FP32', shape: [0], data: [] }, { name: 'ñame', datatype: 'INT64', shape: [], data: [7] }] },
  { what: 'no outputs', outputs: [] },
];

describe('output codec', () => {
  for (const { what, outputs } of cases) {
    it(`round-trips ${what} exactly`, () => {
      expect(decodeOutputs(new OutputEncoder(8).encode(outputs))).toEqual(outputs);
    });
  }

  it('keeps earlier rows valid while the buffer grows and reuses headers of the same shape only', () => {
    const encoder = new OutputEncoder(16);
    const rows = Array.from({ length: 50 }, (_, i): StoredOutput[] => [{ name: 'score', datatype: 'FP32', shape: [i % 2 === 0 ? 1 : 2], data: i % 2 === 0 ? [i] : [i, -i] }]);
    const encoded = rows.map((r) => encoder.encode(r));
    expect(encoded.map(decodeOutputs)).toEqual(rows);
  });

  it('names a format it does not read', () => {
    expect(() => decodeOutputs(Uint8Array.from([7, 0, 0]))).toThrow('stored outputs are in format 7, not 1');
  });
});
