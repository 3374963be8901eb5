import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr } from './attributes.ts';
import { OnnxModelBuilder } from './onnx-builder.ts';
import { ORT_TENSOR_TYPE } from './ort-types.ts';
import { sampleValues } from './sample-values.ts';
import type { TensorDatatype } from './tensor-data.ts';

/** Creates a real session on `bytes`, hands it to `use`, and always releases it. */
async function withSession<T>(bytes: Uint8Array, use: (s: ort.InferenceSession) => Promise<T>): Promise<T> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

describe('OnnxModelBuilder with onnxruntime-node', () => {
  it('declares inputs and outputs that the session reports with names, types and dims', async () => {
    const bytes = new OnnxModelBuilder({ opset: 17 })
      .input('x', 'FP32', ['batch', 4])
      .input('mask', 'BOOL', ['batch', null])
      .initializer('W', 'FP32', [4, 3], new Float32Array(12).fill(0.5))
      .node('MatMul', ['x', 'W'], ['xw'])
      .node('Softmax', ['xw'], ['probs'], { axis: -1 })
      .node('Not', ['mask'], ['inverted'])
      .output('probs', 'FP32', ['batch', 3])
      .output('inverted', 'BOOL', ['batch', null])
      .build();
    await withSession(bytes, async (session) => {
      expect(session.inputNames).toEqual(['x', 'mask']);
      expect(session.outputNames).toEqual(['probs', 'inverted']);
      expect(session.inputMetadata).toEqual([
        { name: 'x', isTensor: true, type: 'float32', shape: ['batch', 4] },
        // onnxruntime-node reports a dimension with neither dim_value nor dim_param as ''
        { name: 'mask', isTensor: true, type: 'bool', shape: ['batch', ''] },
      ]);
      expect(session.outputMetadata).toEqual([
        { name: 'probs', isTensor: true, type: 'float32', shape: ['batch', 3] },
        { name: 'inverted', isTensor: true, type: 'bool', shape: ['batch', ''] },
      ]);
      const result = await session.run({
        x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]),
        mask: new ort.Tensor('bool', new Uint8Array([1, 0]), [1, 2]),
      });
      // every column of W is equal, so the three logits are equal
      expect(Array.from(result['probs']!.data as Float32Array)).toEqual([1 / 3, 1 / 3, 1 / 3].map(Math.fround));
      expect(Array.from(result['inverted']!.data as Uint8Array)).toEqual([0, 1]);
    });
  });

  it('declares unknown rank by leaving the shape out (reported as [], like a scalar)', async () => {
    const bytes = new OnnxModelBuilder().input('x', 'INT32').node('Identity', ['x'], ['y']).output('y', 'INT32').build();
    await withSession(bytes, async (session) => {
      expect(session.inputMetadata).toEqual([{ name: 'x', isTensor: true, type: 'int32', shape: [] }]);
      const y = (await session.run({ x: new ort.Tensor('int32', new Int32Array([1, 2, 3, 4]), [2, 1, 2]) }))['y']!;
      expect(y.dims).toEqual([2, 1, 2]);
    });
  });

  it('writes every attribute type so that onnxruntime reads the stated values', async () => {
    const bytes = new OnnxModelBuilder()
      .node('Constant', [], ['f'], { value_float: attr.float(0.25) })
      .node('Constant', [], ['fs'], { value_floats: attr.floats([1.5, -2]) })
      .node('Constant', [], ['i'], { value_int: 2n ** 40n })
      .node('Constant', [], ['is'], { value_ints: [1, -2, 3] })
      .node('Constant', [], ['s'], { value_string: 'héllo' })
      .node('Constant', [], ['ss'], { value_strings: ['a', 'b'] })
      .node('Constant', [], ['t'], { value: attr.tensor('INT32', [2, 2], [1, 2, 3, 4]) })
      .output('f', 'FP32', [])
      .output('fs', 'FP32', [2])
      .output('i', 'INT64', [])
      .output('is', 'INT64', [3])
      .output('s', 'BYTES', [])
      .output('ss', 'BYTES', [2])
      .output('t', 'INT32', [2, 2])
      .build();
    await withSession(bytes, async (session) => {
      const r = await session.run({});
      expect(Array.from(r['f']!.data as Float32Array)).toEqual([0.25]);
      expect(Array.from(r['fs']!.data as Float32Array)).toEqual([1.5, -2]);
      expect(Array.from(r['i']!.data as BigInt64Array)).toEqual([2n ** 40n]);
      expect(Array.from(r['is']!.data as BigInt64Array)).toEqual([1n, -2n, 3n]);
      expect(r['s']!.data).toEqual(['héllo']);
      expect(r['ss']!.data).toEqual(['a', 'b']);
      expect(r['t']!.dims).toEqual([2, 2]);
      expect(Array.from(r['t']!.data as Int32Array)).toEqual([1, 2, 3, 4]);
    });
  });

  it('uses a float attribute as a float (LeakyRelu alpha) and ints as ints (Transpose perm)', async () => {
    const bytes = new OnnxModelBuilder()
      .input('x', 'FP32', [2, 2])
      .node('LeakyRelu', ['x'], ['y'], { alpha: attr.float(0.5) })
      .node('Transpose', ['y'], ['z'], { perm: [1, 0] })
      .output('z', 'FP32', [2, 2])
      .build();
    await withSession(bytes, async (session) => {
      const r = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, -2, -4, 8]), [2, 2]) });
      expect(Array.from(r['z']!.data as Float32Array)).toEqual([1, -2, -1, 8]);
    });
  });

  const storable = [
    ...['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64'],
    ...['FP16', 'FP32', 'FP64', 'BYTES'],
  ] as TensorDatatype[];
  it.each(storable)('stores a %s initializer that onnxruntime reads back exactly', async (datatype) => {
    const values = sampleValues(datatype, 9);
    const bytes = new OnnxModelBuilder()
      .initializer('C', datatype, [3, 3], values)
      .node('Identity', ['C'], ['out'])
      .output('out', datatype, [3, 3])
      .build();
    await withSession(bytes, async (session) => {
      const out = (await session.run({}))['out']!;
      expect(out.type).toBe(ORT_TENSOR_TYPE[datatype]);
      expect(out.dims).toEqual([3, 3]);
      expect(Array.from(out.data as ArrayLike<unknown>)).toEqual(Array.from(values as ArrayLike<unknown>));
    });
  });

  it('stores a BF16 initializer (read through a Cast, as onnxruntime-node has no bfloat16 tensors)', async () => {
    const values = [1, -2.5, 3.140625, 0];
    const bytes = new OnnxModelBuilder()
      .initializer('C', 'BF16', [4], values)
      .node('Cast', ['C'], ['out'], { to: 1 })
      .output('out', 'FP32', [4])
      .build();
    await withSession(bytes, async (session) => {
      expect(Array.from((await session.run({}))['out']!.data as Float32Array)).toEqual(values);
    });
  });

  it('runs a node of an imported extra domain (com.microsoft Gelu)', async () => {
    const bytes = new OnnxModelBuilder()
      .opsetImport('com.microsoft', 1)
      .input('x', 'FP32', [2])
      .node('Gelu', ['x'], ['y'], {}, { domain: 'com.microsoft' })
      .output('y', 'FP32', [2])
      .build();
    await withSession(bytes, async (session) => {
      const y = (await session.run({ x: new ort.Tensor('float32', new Float32Array([0, 10]), [2]) }))['y']!;
      expect(Array.from(y.data as Float32Array)).toEqual([0, 10]); // gelu(0) = 0, gelu(10) ≈ 10
    });
  });
});

describe('OnnxModelBuilder checks', () => {
  it('builds the same bytes twice', () => {
    const builder = new OnnxModelBuilder().input('x', 'FP32', [1]).node('Relu', ['x'], ['y']).output('y', 'FP32', [1]);
    expect(builder.build()).toEqual(builder.build());
  });

  it.each([
    ['a duplicate input', () => new OnnxModelBuilder().input('x', 'FP32').input('x', 'FP32'), /x: the name is already/],
    [
      'an initializer named like an input',
      () => new OnnxModelBuilder().input('x', 'FP32').initializer('x', 'FP32', [1], [1]),
      /initializer x: the name is already/,
    ],
    [
      'a duplicate output',
      () => new OnnxModelBuilder().output('y', 'FP32').output('y', 'FP32'),
      /output y is declared twice/,
    ],
    [
      'initializer values that do not fit',
      () => new OnnxModelBuilder().initializer('W', 'FP32', [2, 2], [1, 2, 3]),
      /initializer W: 3 elements given, shape holds 4/,
    ],
    [
      'a non-integer plain number attribute',
      () => new OnnxModelBuilder().node('Elu', ['x'], ['y'], { alpha: 0.5 }),
      /use attr.float\(0.5\)/,
    ],
    [
      'a non-integer plain number array attribute',
      () => new OnnxModelBuilder().node('Op', ['x'], ['y'], { v: [1, 0.5] }),
      /use attr.floats/,
    ],
    ['a negative dimension', () => new OnnxModelBuilder().input('x', 'FP32', [-1]), /dimension -1 is not a size/],
    [
      'a domain without an opset import',
      () => new OnnxModelBuilder().node('Op', [], ['y'], {}, { domain: 'x.y' }).output('y', 'FP32').build(),
      /uses domain 'x.y' without opsetImport/,
    ],
    ['a model without outputs', () => new OnnxModelBuilder().build(), /at least one output/],
  ])('rejects %s', (_, run, message) => {
    expect(run).toThrow(message);
  });
});
