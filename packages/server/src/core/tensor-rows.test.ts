import { describe, expect, it } from 'vitest';
import type { Tensor } from '@sibyl/protocol';
import { copyTensor, pickRows, replaceRows, rowMaxima } from './tensor-rows.ts';

const t = (rows: number[][]): Tensor => ({ name: 'x', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) });
const bytes = (rows: string[][]): Tensor => ({ name: 's', datatype: 'BYTES', shape: [rows.length, rows[0]!.length], data: rows.flat().map((s) => new TextEncoder().encode(s)) });
const text = (x: Tensor): string[] => (x.data as Uint8Array[]).map((b) => new TextDecoder().decode(b));

describe('tensor rows', () => {
  it('picks rows in the order asked, as new buffers', () => {
    const src = t([[1, 2], [3, 4], [5, 6]]);
    const picked = pickRows(src, [2, 0]);
    expect(picked.shape).toEqual([2, 2]);
    expect([...(picked.data as Float32Array)]).toEqual([5, 6, 1, 2]);
    (picked.data as Float32Array)[0] = 99;
    expect((src.data as Float32Array)[4]).toBe(5);
    expect(text(pickRows(bytes([['a', 'b'], ['c', 'd']]), [1]))).toEqual(['c', 'd']);
  });

  it('replaces rows in place of a copy', () => {
    const base = t([[1, 2], [3, 4], [5, 6]]);
    const merged = replaceRows(base, [0, 2], t([[10, 20], [50, 60]]));
    expect([...(merged.data as Float32Array)]).toEqual([10, 20, 3, 4, 50, 60]);
    expect([...(base.data as Float32Array)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(text(replaceRows(bytes([['a'], ['b']]), [1], bytes([['z']])))).toEqual(['a', 'z']);
    expect(() => replaceRows(base, [0], t([[1, 2, 3]]))).toThrow(/cascade stages must have outputs of the same datatype and row shape/);
  });

  it('finds each row’s maximum and copies deeply', () => {
    const { max, argmax } = rowMaxima(t([[0.2, 0.8], [0.6, 0.4]]));
    expect([...max].map((v) => Number(v.toFixed(6)))).toEqual([0.8, 0.6]);
    expect([...argmax]).toEqual([1, 0]);
    const src = t([[1]]);
    const copy = copyTensor(src);
    (copy.data as Float32Array)[0] = 2;
    expect((src.data as Float32Array)[0]).toBe(1);
  });
});
