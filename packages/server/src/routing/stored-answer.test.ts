import { describe, expect, it } from 'vitest';
import { storedAnswer } from './stored-answer.ts';

describe('storedAnswer', () => {
  it('answers the stored outputs as tensors of one row, in the name and version that made them', () => {
    const answer = storedAnswer({
      model: 'churn',
      key: 'c1',
      version: '3',
      jobId: 'j',
      createdAtMs: 0,
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [2], data: [0.25, 0.75] },
        { name: 'label', datatype: 'INT64', shape: [], data: [1] },
        { name: 'names', datatype: 'BYTES', shape: [1], data: ['stays'] },
      ],
    });
    expect(answer.model_name).toBe('churn');
    expect(answer.model_version).toBe('3');
    expect(answer.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [1, 2]],
      ['label', 'INT64', [1]],
      ['names', 'BYTES', [1, 1]],
    ]);
    expect(answer.outputs[0]!.data).toEqual(Float32Array.from([0.25, 0.75]));
    expect(answer.outputs[1]!.data).toEqual(BigInt64Array.from([1n]));
    expect(answer.outputs[2]!.data).toEqual([new TextEncoder().encode('stays')]);
  });

  it('answers NaN for the nulls a JSON store keeps', () => {
    const answer = storedAnswer({ model: 'm', key: 'k', version: '1', jobId: 'j', createdAtMs: 0, outputs: [{ name: 'p', datatype: 'FP32', shape: [2], data: [null as never, 1] }] });
    expect([...(answer.outputs[0]!.data as Float32Array)]).toEqual([Number.NaN, 1]);
  });

  it('names stored outputs that do not fit their shape', () => {
    expect(() => storedAnswer({ model: 'm', key: 'k', version: '1', jobId: 'j', createdAtMs: 0, outputs: [{ name: 'p', datatype: 'FP32', shape: [3], data: [1] }] })).toThrow(/^the stored prediction of m for key "k" has an output 'p' that is not a valid tensor: .*3/);
  });
});
