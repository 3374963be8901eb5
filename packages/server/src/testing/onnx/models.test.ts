import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  addSubModel,
  corruptModelBytes,
  fixedBatchModel,
  identityModel,
  linearClassifierExpected,
  linearClassifierModel,
  slowModel,
  slowModelExpected,
  unsupportedOpModel,
} from './models.ts';
import { ORT_TENSOR_TYPE } from './ort-types.ts';
import { sampleValues } from './sample-values.ts';
import type { TensorDatatype } from './tensor-data.ts';

async function withSession<T>(bytes: Uint8Array, use: (s: ort.InferenceSession) => Promise<T>): Promise<T> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

describe('identityModel', () => {
  const served = [
    ...['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64'],
    ...['FP16', 'FP32', 'FP64', 'BYTES'],
  ] as TensorDatatype[];

  it.each(served)('passes %s through unchanged, with declared metadata', async (datatype) => {
    const model = identityModel(datatype, ['batch', 7]);
    const type = ORT_TENSOR_TYPE[datatype]!;
    await withSession(model.bytes, async (session) => {
      expect(session.inputMetadata).toEqual([{ name: 'input', isTensor: true, type, shape: ['batch', 7] }]);
      expect(session.outputMetadata).toEqual([{ name: 'output', isTensor: true, type, shape: ['batch', 7] }]);
      const values = sampleValues(datatype, 14);
      const out = (await session.run({ input: new ort.Tensor(type, values as never, [2, 7]) }))['output']!;
      expect(out.type).toBe(type);
      expect(out.dims).toEqual([2, 7]);
      // onnxruntime-node cuts input strings at the first NUL (see the test below)
      const expected =
        datatype === 'BYTES' ? (values as string[]).map((v) => v.split('\0')[0]) : Array.from(values as ArrayLike<unknown>);
      expect(Array.from(out.data as ArrayLike<unknown>)).toEqual(expected);
    });
  });

  it('shows onnxruntime-node 1.30 cutting BYTES inputs at the first NUL, re-encoding lone surrogates', async () => {
    await withSession(identityModel('BYTES', ['n']).bytes, async (session) => {
      const input = new ort.Tensor('string', ['a\0b', '\0', 'x\uD800y', 'ok'], [4]);
      const out = (await session.run({ input }))['output']!;
      expect(out.data).toEqual(['a', '', 'x\uFFFDy', 'ok']);
    });
  });

  it('builds BF16, which onnxruntime-node 1.30 refuses to load', async () => {
    const { bytes } = identityModel('BF16', [2]);
    await expect(ort.InferenceSession.create(bytes)).rejects.toThrow(/Unsupported data type: 16/);
  });
});

describe('linearClassifierModel', () => {
  const weights = [
    [0.5, -1, 2],
    [1.5, 0.25, -0.75],
    [-2, 1, 0.125],
    [0.1, 0.2, 0.3],
  ];
  const bias = [0.1, -0.2, 0.3];

  it('computes logits and probabilities as linearClassifierExpected does', async () => {
    const model = linearClassifierModel({ weights, bias });
    expect([model.features, model.classes]).toEqual([4, 3]);
    const rows = [
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
      [0, 0, 0, 0],
    ];
    const expected = linearClassifierExpected(weights, bias, rows);
    await withSession(model.bytes, async (session) => {
      expect(session.inputMetadata).toEqual([
        { name: 'features', isTensor: true, type: 'float32', shape: ['batch', 4] },
      ]);
      expect(session.outputNames).toEqual(['logits', 'probabilities']);
      const r = await session.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [3, 4]) });
      expect(r['logits']!.dims).toEqual([3, 3]);
      const logits = Array.from(r['logits']!.data as Float32Array);
      const probabilities = Array.from(r['probabilities']!.data as Float32Array);
      expected.logits.flat().forEach((v, i) => expect(logits[i]).toBeCloseTo(v, 5));
      expected.probabilities.flat().forEach((v, i) => expect(probabilities[i]).toBeCloseTo(v, 6));
    });
  });

  it('computes expectations independently (hand-checked row)', () => {
    const { logits, probabilities } = linearClassifierExpected([[1, 0], [0, 1]], [0, Math.log(3)], [[0, 0]]);
    expect(logits).toEqual([[0, Math.log(3)]]);
    expect(probabilities[0]![0]).toBeCloseTo(0.25, 12);
    expect(probabilities[0]![1]).toBeCloseTo(0.75, 12);
  });

  it('rejects weights whose rows do not match the bias', () => {
    expect(() => linearClassifierModel({ weights: [[1, 2]], bias: [0] })).toThrow(/weights must be \[n\]\[1\]/);
  });
});

describe('addSubModel', () => {
  it('adds and subtracts INT64 exactly, beyond 2^53 and wrapping on overflow', async () => {
    const a = [2n ** 62n, -5n, 9007199254740993n, 9223372036854775807n, 0n, -1n];
    const b = [2n ** 62n, 7n, 2n, 1n, -9223372036854775808n, 1n];
    await withSession(addSubModel().bytes, async (session) => {
      expect(session.inputMetadata.map((m) => m.name)).toEqual(['a', 'b']);
      expect(session.outputMetadata).toEqual([
        { name: 'sum', isTensor: true, type: 'int64', shape: ['batch', 3] },
        { name: 'difference', isTensor: true, type: 'int64', shape: ['batch', 3] },
      ]);
      const r = await session.run({
        a: new ort.Tensor('int64', BigInt64Array.from(a), [2, 3]),
        b: new ort.Tensor('int64', BigInt64Array.from(b), [2, 3]),
      });
      expect(Array.from(r['sum']!.data as BigInt64Array)).toEqual(a.map((x, i) => BigInt.asIntN(64, x + b[i]!)));
      expect(Array.from(r['difference']!.data as BigInt64Array)).toEqual(a.map((x, i) => BigInt.asIntN(64, x - b[i]!)));
    });
  });
});

describe('fixedBatchModel', () => {
  it('doubles a fixed [2, 3] input and rejects other shapes', async () => {
    const model = fixedBatchModel();
    await withSession(model.bytes, async (session) => {
      expect(session.inputMetadata).toEqual([{ name: 'input', isTensor: true, type: 'float32', shape: [2, 3] }]);
      const x = [1, -2, 3.5, 0, 1e30, -1e-30];
      const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x), [2, 3]) });
      expect(Array.from(r['output']!.data as Float32Array)).toEqual(x.map((v) => Math.fround(Math.fround(v) * 2)));
      await expect(session.run({ input: new ort.Tensor('float32', new Float32Array(3), [1, 3]) })).rejects.toThrow(
        /invalid dimensions/,
      );
    });
  });
});

describe('slowModel', () => {
  it('rotates each row by depth columns through a chain of MatMuls', async () => {
    const model = slowModel({ size: 8, depth: 3 });
    await withSession(model.bytes, async (session) => {
      expect(session.inputMetadata).toEqual([{ name: 'input', isTensor: true, type: 'float32', shape: ['batch', 8] }]);
      const input = Float32Array.from({ length: 16 }, (_, i) => i * 1.5 - 4);
      const out = (await session.run({ input: new ort.Tensor('float32', input, [2, 8]) }))['output']!;
      expect(Array.from(out.data as Float32Array)).toEqual(Array.from(slowModelExpected(input, 8, 3)));
    });
  });

  it('stores the weight once however deep the chain', () => {
    const shallow = slowModel({ size: 64, depth: 1 }).bytes.length;
    const deep = slowModel({ size: 64, depth: 50 }).bytes.length;
    expect(deep - shallow).toBeLessThan(50 * 40); // a node is a few dozen bytes; the weight is 16 KiB
  });

  it('computes its expectation independently (hand-checked row)', () => {
    expect(Array.from(slowModelExpected(Float32Array.from([1, 2, 3, 4]), 4, 1))).toEqual([4, 1, 2, 3]);
    expect(Array.from(slowModelExpected(Float32Array.from([1, 2, 3]), 3, 5))).toEqual([2, 3, 1]);
  });
});

describe('models onnxruntime refuses', () => {
  it('rejects unsupportedOpModel at session creation, naming the op', async () => {
    const { bytes, opType } = unsupportedOpModel();
    await expect(ort.InferenceSession.create(bytes)).rejects.toThrow(new RegExp(opType));
  });

  it('rejects corruptModelBytes at session creation', async () => {
    await expect(ort.InferenceSession.create(corruptModelBytes())).rejects.toThrow(/protobuf parsing failed/);
  });
});
