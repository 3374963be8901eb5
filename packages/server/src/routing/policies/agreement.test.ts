import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import { compareOutputs } from './agreement.ts';
import { uncertainRows } from './cascade.ts';

const probs = (rows: number[][]): Tensor => ({ name: 'p', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) });

describe('shadow agreement', () => {
  it('counts rows with the same top class and the largest difference', () => {
    const a = compareOutputs(probs([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]]), probs([[0.8, 0.2], [0.7, 0.3], [0.5, 0.5]]))!;
    expect(a.rows).toBe(3);
    expect(a.sameTopClass).toBe(2);
    expect(a.maxAbsDiff).toBeCloseTo(0.3, 6);
  });
  it('cannot compare tensors of different shapes or datatypes', () => {
    expect(compareOutputs(probs([[1, 0]]), probs([[1, 0, 0]]))).toBeUndefined();
    expect(compareOutputs(probs([[1, 0]]), { name: 'p', datatype: 'BYTES', shape: [1, 2], data: [new Uint8Array(), new Uint8Array()] })).toBeUndefined();
  });
});

describe('cascade', () => {
  it('sends on the rows below the threshold', () => {
    expect(uncertainRows(probs([[0.95, 0.05], [0.6, 0.4], [0.1, 0.9], [0.5, 0.5]]), 0.9, 'small')).toEqual([1, 3]);
    expect(uncertainRows(probs([[0.95, 0.05]]), 0.9, 'small')).toEqual([]);
  });
  it('refuses an output that is not scores', () => {
    expect(() => uncertainRows({ name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array(1) }, 0.9, 'small')).toThrow(
      "cascade stage small: output 'label' is INT64; a confidence output must be FP32 or FP64 scores (probabilities)",
    );
  });
});
