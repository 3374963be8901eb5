import { describe, expect, it } from 'vitest';
import { attr } from './attributes.ts';
import { OnnxModelBuilder } from './onnx-builder.ts';

// An independent protobuf wire reader: field number → raw values (varints as bigint, LEN
// fields as bytes, fixed32/fixed64 as bytes). The tests below navigate the builder's output
// by the field numbers of onnx.proto, so a wrong number in the schema string fails here even
// if onnxruntime happened to tolerate it.
type Fields = Map<number, (bigint | Uint8Array)[]>;

function readFields(bytes: Uint8Array): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
    }
  };
  while (pos < bytes.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = bytes.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 5 || wire === 1) {
      const len = wire === 5 ? 4 : 8;
      value = bytes.subarray(pos, pos + len);
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

function one(fields: Fields, n: number): bigint | Uint8Array {
  const values = fields.get(n);
  expect(values, `field ${n}`).toHaveLength(1);
  return values![0]!;
}
const msg = (fields: Fields, n: number): Fields => readFields(one(fields, n) as Uint8Array);
const msgs = (fields: Fields, n: number): Fields[] => (fields.get(n) ?? []).map((v) => readFields(v as Uint8Array));
const str = (fields: Fields, n: number): string => new TextDecoder().decode(one(fields, n) as Uint8Array);
const float32 = (v: bigint | Uint8Array): number => new DataView((v as Uint8Array).slice().buffer).getFloat32(0, true);

describe('onnx.proto subset field numbers', () => {
  const bytes = new OnnxModelBuilder({ opset: 17, producerName: 'p', graphName: 'g', metadata: { k: 'v' } })
    .opsetImport('com.example', 3)
    .input('x', 'FP32', ['batch', 4, null])
    .initializer('W', 'INT32', [2], [1, -2])
    .initializer('S', 'BYTES', [1], ['hi'])
    .node(
      'Op',
      ['x', 'W'],
      ['y'],
      { f: attr.float(0.5), i: 7, s: 'str', fs: attr.floats([1, 2]), is: [3, 4], ss: ['a'] },
      { domain: 'com.example', name: 'n0' },
    )
    .output('y', 'INT64', [2])
    .build();
  const model = readFields(bytes);

  it('writes ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8, metadata_props=14', () => {
    expect(one(model, 1)).toBe(8n);
    expect(str(model, 2)).toBe('p');
    const opsets = msgs(model, 8).map((o) => [o.has(1) ? str(o, 1) : '', one(o, 2)]);
    expect(opsets).toEqual([
      ['', 17n],
      ['com.example', 3n],
    ]);
    const [entry] = msgs(model, 14);
    expect([str(entry!, 1), str(entry!, 2)]).toEqual(['k', 'v']);
    expect(model.has(7)).toBe(true);
  });

  it('writes GraphProto: node=1, name=2, initializer=5, input=11, output=12', () => {
    const graph = msg(model, 7);
    expect(str(graph, 2)).toBe('g');
    expect(msgs(graph, 1)).toHaveLength(1);
    expect(msgs(graph, 5)).toHaveLength(2);
    expect(msgs(graph, 11)).toHaveLength(1);
    expect(msgs(graph, 12)).toHaveLength(1);
  });

  it('writes TensorProto: dims=1, data_type=2, string_data=6, name=8, raw_data=9 (little-endian)', () => {
    const [w, s] = msgs(msg(model, 7), 5);
    expect(str(w!, 8)).toBe('W');
    expect(w!.get(1)).toEqual([2n]);
    expect(one(w!, 2)).toBe(6n); // INT32
    expect([...(one(w!, 9) as Uint8Array)]).toEqual([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    expect(str(s!, 8)).toBe('S');
    expect(one(s!, 2)).toBe(8n); // STRING
    expect(str(s!, 6)).toBe('hi');
    expect(s!.has(9)).toBe(false);
  });

  it('writes ValueInfoProto/TypeProto/TensorShapeProto: dim_value=1, dim_param=2, unknown = neither', () => {
    const input = msgs(msg(model, 7), 11)[0]!;
    expect(str(input, 1)).toBe('x');
    const tensorType = msg(msg(input, 2), 1);
    expect(one(tensorType, 1)).toBe(1n); // FLOAT
    const dims = msgs(msg(tensorType, 2), 1);
    expect(str(dims[0]!, 2)).toBe('batch');
    expect(one(dims[1]!, 1)).toBe(4n);
    expect(dims[2]!.size).toBe(0);
    const output = msgs(msg(model, 7), 12)[0]!;
    expect(one(msg(msg(output, 2), 1), 1)).toBe(7n); // INT64
  });

  it('writes NodeProto (input=1, output=2, name=3, op_type=4, attribute=5, domain=7) and AttributeProto', () => {
    const node = msgs(msg(model, 7), 1)[0]!;
    expect(node.get(1)!.map((v) => new TextDecoder().decode(v as Uint8Array))).toEqual(['x', 'W']);
    expect(str(node, 2)).toBe('y');
    expect(str(node, 3)).toBe('n0');
    expect(str(node, 4)).toBe('Op');
    expect(str(node, 7)).toBe('com.example');
    const attrs = new Map(msgs(node, 5).map((a) => [str(a, 1), a]));
    // type=20: FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7, STRINGS 8; f=2, i=3, s=4, floats=7, ints=8, strings=9
    expect(one(attrs.get('f')!, 20)).toBe(1n);
    expect(float32(one(attrs.get('f')!, 2))).toBe(0.5);
    expect(one(attrs.get('i')!, 20)).toBe(2n);
    expect(one(attrs.get('i')!, 3)).toBe(7n);
    expect(one(attrs.get('s')!, 20)).toBe(3n);
    expect(str(attrs.get('s')!, 4)).toBe('str');
    expect(one(attrs.get('fs')!, 20)).toBe(6n);
    expect(attrs.get('fs')!.get(7)!.map(float32)).toEqual([1, 2]);
    expect(one(attrs.get('is')!, 20)).toBe(7n);
    expect(attrs.get('is')!.get(8)).toEqual([3n, 4n]);
    expect(one(attrs.get('ss')!, 20)).toBe(8n);
    expect(str(attrs.get('ss')!, 9)).toBe('a');
  });

  it('writes an attribute tensor as t=5 with type TENSOR=4', () => {
    const node = readFields(
      msgs(
        msg(
          readFields(
            new OnnxModelBuilder()
              .node('Constant', [], ['c'], { value: attr.tensor('FP32', [1], [2.5]) })
              .output('c', 'FP32', [1])
              .build(),
          ),
          7,
        ),
        1,
      )[0]!.get(5)![0] as Uint8Array,
    );
    expect(one(node, 20)).toBe(4n);
    const tensor = msg(node, 5);
    expect(one(tensor, 2)).toBe(1n);
    expect(float32(one(tensor, 9))).toBe(2.5);
  });
});
