import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import { concatInputs, splitOutputs } from './batch-tensors.ts';

const t = (name: string, rows: number, values: number[]): Tensor => ({ name, datatype: 'FP32', shape: [rows, values.length / rows], data: Float32Array.from(values) });

describe('batch assembly', () => {
  it('concatenates along the first dimension, input by input, in member order', () => {
    const [x, y] = concatInputs([
      [t('x', 1, [1, 2]), t('y', 1, [9])],
      [t('y', 2, [8, 7]), t('x', 2, [3, 4, 5, 6])],
    ]);
    expect(x).toEqual({ name: 'x', datatype: 'FP32', shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
    expect(y!.shape).toEqual([3, 1]);
    expect([...(y!.data as Float32Array)]).toEqual([9, 8, 7]);
  });

  it('passes a single member through without copying', () => {
    const inputs = [t('x', 1, [1, 2])];
    expect(concatInputs([inputs])[0]!.data).toBe(inputs[0]!.data);
  });

  it('concatenates BYTES and INT64', () => {
    const a: Tensor = { name: 's', datatype: 'BYTES', shape: [1], data: [Uint8Array.of(1)] };
    const b: Tensor = { name: 's', datatype: 'BYTES', shape: [2], data: [Uint8Array.of(2), Uint8Array.of(3)] };
    expect(concatInputs([[a], [b]])[0]!.data).toEqual([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]);
    const i: Tensor = { name: 'i', datatype: 'INT64', shape: [1, 1], data: BigInt64Array.of(2n ** 60n) };
    expect([...(concatInputs([[i], [i]])[0]!.data as BigInt64Array)]).toEqual([2n ** 60n, 2n ** 60n]);
  });

  it('splits outputs back into each member\'s rows', () => {
    const parts = splitOutputs([t('p', 3, [1, 2, 3, 4, 5, 6])], [1, 2]);
    expect(parts.map((p) => [p[0]!.shape, [...(p[0]!.data as Float32Array)]])).toEqual([
      [[1, 2], [1, 2]],
      [[2, 2], [3, 4, 5, 6]],
    ]);
  });

  it('refuses outputs that lost the batch dimension', () => {
    expect(() => splitOutputs([t('p', 1, [1, 2])], [1, 2])).toThrow(/has 1 rows for a batch of 3/);
  });
});
