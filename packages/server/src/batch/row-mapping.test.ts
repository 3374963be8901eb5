import { describe, expect, it } from 'vitest';
import { RowMapper } from './row-mapping.ts';
import type { SourceChunk, SourceRow } from './source.ts';

const chunk = (rows: SourceRow[]): SourceChunk => ({ index: 0, rows, firstRowNumber: 1 });

describe('RowMapper', () => {
  it('maps JSON values of several datatypes into one batched request, and names the column of each bad row', () => {
    const mapper = new RowMapper(
      [
        { input: 'x', columns: ['a', 'b'] },
        { input: 'n', columns: ['big'] },
        { input: 'flag', columns: ['f'] },
        { input: 'name', columns: ['s'] },
        { input: 'small', columns: ['i'] },
      ],
      ['region', 'id'],
      {
        inputs: [
          { name: 'x', datatype: 'FP32', shape: [-1, 2] },
          { name: 'n', datatype: 'INT64', shape: [-1, 1] },
          { name: 'flag', datatype: 'BOOL', shape: [-1, 1] },
          { name: 'name', datatype: 'BYTES', shape: [-1, 1] },
          { name: 'small', datatype: 'INT8', shape: [-1, 1] },
        ],
        maxBatchSize: 8,
      },
      'm',
    );
    const rows: SourceRow[] = [
      { region: 'eu', id: 1, a: 0.1, b: '2.5', big: '9007199254740993', f: 1, s: 'hi', i: 3 },
      { region: 'eu', id: 2, a: 'x', b: 1, big: 1, f: true, s: 'a', i: 1 },
      { region: 'us', id: 3, a: 1, b: 2, big: 1234567890123456789n, f: 'false', s: 'b', i: 500 },
      { region: 'us', a: 1, b: 2, big: 1, f: false, s: 'c', i: 0 },
      { region: 'us', id: 5, a: 1, big: 1, f: false, s: 'c', i: 0 },
      { region: 'us', id: 6, a: 1, b: 2, big: 1.5, f: false, s: 'c', i: 0 },
    ];
    const c = chunk(rows);
    const checked = mapper.check(c);
    expect(checked.keys.slice(0, 3)).toEqual(['eu|1', 'eu|2', 'us|3']);
    expect([...checked.problems]).toEqual([
      [1, `column 'a' is "x"; input 'x' (FP32) expects a number`],
      [3, "key column 'id' is missing"],
      [4, "column 'b' is missing"],
      [5, "column 'big' is 1.5; input 'n' (INT64) expects an integer"],
    ]);
    expect(checked.good).toEqual([0, 2]);
    // Row 2's INT8 value is out of range: found by the codec when the request is built, named by column.
    const built = mapper.build(c, checked.good);
    expect([...built.problems]).toEqual([[2, "column 'i' is 500; expected an integer in [-128, 127] (input 'small', INT8)"]]);
    expect(built.rows).toEqual([0]);
    const inputs = Object.fromEntries(built.request!.inputs.map((t) => [t.name, t]));
    expect(inputs.x!.shape).toEqual([1, 2]);
    expect(Array.from(inputs.x!.data as Float32Array)).toEqual([Math.fround(0.1), 2.5]);
    expect(Array.from(inputs.n!.data as BigInt64Array)).toEqual([9007199254740993n]);
    expect(Array.from(inputs.flag!.data as Uint8Array)).toEqual([1]);
    expect(new TextDecoder().decode((inputs.name!.data as Uint8Array[])[0])).toBe('hi');
  });

  it('takes a whole input from one column (an array, or JSON text) and checks its element count', () => {
    const mapper = new RowMapper([{ input: 'v', column: 'vec' }], ['k'], { inputs: [{ name: 'v', datatype: 'FP32', shape: [-1, 2, 2] }], maxBatchSize: 4 }, 'm');
    const c = chunk([
      { k: 'a', vec: [[1, 2], [3, 4]] },
      { k: 'b', vec: '[[5,6],[7,8]]' },
      { k: 'c', vec: [1, 2, 3] },
      { k: 'd', vec: 'not json' },
    ]);
    const checked = mapper.check(c);
    expect([...checked.problems.values()]).toEqual([`column 'vec' is [1,2,3]; input 'v' (FP32) expects 4 elements (shape [2, 2])`, `column 'vec' is "not json"; input 'v' (FP32) expects a JSON array of 4 elements`]);
    const built = mapper.build(c, checked.good);
    expect(built.request!.inputs[0]!.shape).toEqual([2, 2, 2]);
    expect(Array.from(built.request!.inputs[0]!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses a mapping that does not fit the signature, naming what the model expects', () => {
    const signature = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 3] }], maxBatchSize: 8 };
    expect(() => new RowMapper([{ input: 'x', columns: ['a', 'b'] }], ['k'], signature, 'm')).toThrow(/maps 2 columns to input 'x' \(FP32 \[-1, 3\]\), whose rows hold 3 elements/);
    expect(() => new RowMapper([], ['k'], signature, 'm')).toThrow(/model 'm' needs input 'x' \(FP32 \[-1, 3\]\); map it under inputs:/);
    expect(() => new RowMapper([{ input: 'x', columns: ['a', 'b', 'c'] }, { input: 'y', column: 'q' }], ['k'], signature, 'm')).toThrow(/maps input 'y', which model 'm' does not have/);
  });
});
