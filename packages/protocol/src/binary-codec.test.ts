import { describe, it, expect } from 'vitest';
import {
  binaryOutputSelector,
  decodeInferRequestBinary,
  decodeInferResponseBinary,
  decodeRawInferRequest,
  encodeInferRequestBinary,
  encodeInferResponseBinary,
} from './binary-codec.ts';
import type { InferRequest, InferResponse } from './infer.ts';
import { decodeInferResponse, encodeInferResponse } from './json-codec.ts';
import { encodeBytesElements } from './tensor-bytes.ts';
import { expectError } from './__fixtures__/errors.ts';
import { ownsBuffer, sampleTensors } from './__fixtures__/tensors.ts';

const utf8 = new TextEncoder();
const text = new TextDecoder();



/** A binary-extension body: header JSON then the given tensor bytes. */
function binaryBody(header: unknown, ...parts: Uint8Array[]): { body: Uint8Array; headerLength: number } {
  const h = utf8.encode(JSON.stringify(header));
  let total = h.length;
  for (const p of parts) total += p.length;
  const body = new Uint8Array(total);
  body.set(h);
  let o = h.length;
  for (const p of parts) {
    body.set(p, o);
    o += p.length;
  }
  return { body, headerLength: h.length };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Copies `body` into a larger "pooled" buffer at `offset` and returns the view. */
function atOffset(body: Uint8Array, offset: number): Uint8Array {
  const pool = new Uint8Array(offset + body.length + 7);
  pool.fill(0xaa);
  pool.set(body, offset);
  return pool.subarray(offset, offset + body.length);
}

describe('decodeInferRequestBinary', () => {
  it('decodes binary inputs that follow the JSON header', () => {
    const x = new Float32Array([1.5, -2, 3.25, 4]);
    const s = encodeBytesElements([utf8.encode('hi'), utf8.encode('')]);
    const { body, headerLength } = binaryBody(
      {
        id: 'b1',
        inputs: [
          { name: 'x', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16, scale: 2 } },
          { name: 'j', shape: [2], datatype: 'INT32', data: [7, 8] },
          { name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: s.length } },
        ],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      },
      bytesOf(x),
      s,
    );
    const request = decodeInferRequestBinary(body, headerLength);
    expect(request).toEqual({
      id: 'b1',
      inputs: [
        { name: 'x', shape: [2, 2], datatype: 'FP32', parameters: { scale: 2 }, data: x },
        { name: 'j', shape: [2], datatype: 'INT32', data: new Int32Array([7, 8]) },
        { name: 's', shape: [2], datatype: 'BYTES', data: [utf8.encode('hi'), new Uint8Array(0)] },
      ],
      outputs: [{ name: 'y', parameters: { binary_data: true } }],
    });
    // binary_data_size described the wire; a decoded input holds its data, so the parameter goes.
    expect(request.inputs[2]!.parameters).toBeUndefined();
  });

  it('round-trips every datatype (and arbitrary BYTES) at unaligned offsets into owned, independent arrays', () => {
    const tensors = sampleTensors();
    tensors.push({ name: 'raw', datatype: 'BYTES', shape: [2], data: [new Uint8Array([0xff, 0x00, 0xfe]), new Uint8Array([0xc3])] });
    tensors.push({ name: 'negzero', datatype: 'FP32', shape: [2], data: new Float32Array([-0, NaN]) });
    const request: InferRequest = { id: 'rt', parameters: { k: 'v' }, inputs: tensors, outputs: [{ name: 'o' }] };
    const { body, headerLength } = encodeInferRequestBinary(request);
    for (const offset of [0, 1, 2, 3, 5, 7]) {
      const view = atOffset(body, offset);
      const decoded = decodeInferRequestBinary(view, headerLength);
      expect(decoded).toEqual(request);
      expect(Object.is((decoded.inputs.at(-1)!.data as Float32Array)[0], -0)).toBe(true);
      for (const t of decoded.inputs) expect(ownsBuffer(t.data), `${t.name} at offset ${offset}`).toBe(true);
      view.fill(0); // reusing the pooled buffer must not change the decoded request
      expect(decoded).toEqual(request);
    }
  });

  it('writes every input as binary with binary_data_size and no data', () => {
    const { body, headerLength } = encodeInferRequestBinary(
      { inputs: [{ name: 'x', datatype: 'INT16', shape: [3], data: new Int16Array([1, -1, 256]) }] },
      { binaryOutputs: true },
    );
    expect(text.decode(body.subarray(0, headerLength))).toBe(
      '{"parameters":{"binary_data_output":true},"inputs":[{"name":"x","datatype":"INT16","shape":[3],"parameters":{"binary_data_size":6}}]}',
    );
    expect([...body.subarray(headerLength)]).toEqual([1, 0, 0xff, 0xff, 0, 1]);
    expect(ownsBuffer(body)).toBe(true);
  });

  it('accepts a header with no binary data at all', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [2.5] }] });
    expect(decodeInferRequestBinary(body, headerLength).inputs[0]!.data).toEqual(new Float64Array([2.5]));
  });

  it('keeps INT64 exact in a binary header with JSON data', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'f', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } }] }, bytesOf(new Float32Array([7])));
    // Splice an exact INT64 JSON input into the header text by hand (JSON.stringify would round it).
    const header = text.decode(body.subarray(0, headerLength)).replace('"inputs":[', '"inputs":[{"name":"i","shape":[1],"datatype":"INT64","data":[9007199254740993]},');
    const h = utf8.encode(header);
    const full = new Uint8Array(h.length + 4);
    full.set(h);
    full.set(bytesOf(new Float32Array([7])), h.length);
    const request = decodeInferRequestBinary(full, h.length);
    expect(request.inputs[0]!.data).toEqual(new BigInt64Array([9007199254740993n]));
    expect(request.inputs[1]!.data).toEqual(new Float32Array([7]));
  });

  it.each([0, -1, 1.5, NaN, 1000])('rejects header length %d', (headerLength) => {
    const { body } = binaryBody({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
    expectError(() => decodeInferRequestBinary(body, headerLength), 'MALFORMED_REQUEST', `Inference-Header-Content-Length is ${headerLength}, but the request body has ${body.length} bytes`);
  });

  it('rejects a header that is not valid JSON', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });
    expectError(() => decodeInferRequestBinary(body, headerLength - 1), 'MALFORMED_REQUEST', 'request body is not valid JSON');
  });

  it('rejects binary sizes that overrun the body', () => {
    const { body, headerLength } = binaryBody(
      {
        inputs: [
          { name: 'a', shape: [1], datatype: 'INT32', parameters: { binary_data_size: 4 } },
          { name: 'b', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
        ],
      },
      new Uint8Array(8),
    );
    expectError(() => decodeInferRequestBinary(body, headerLength), 'MALFORMED_REQUEST', "input 'b' has binary_data_size 8, but only 4 bytes of binary data remain");
  });

  it('rejects binary data left over after the declared sizes', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'a', shape: [1], datatype: 'INT32', parameters: { binary_data_size: 4 } }] }, new Uint8Array(6));
    expectError(() => decodeInferRequestBinary(body, headerLength), 'MALFORMED_REQUEST', "the binary data after the JSON header has 6 bytes, but the inputs' binary_data_size parameters add up to 4");
  });

  it('rejects a fixed-size input whose size is not count × element size', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'a', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 20 } }] }, new Uint8Array(20));
    expectError(() => decodeInferRequestBinary(body, headerLength), 'INPUT_DATA_MISMATCH', "input 'a' has shape [2,3] of FP32, which takes 24 bytes (6 × 4), but its binary data has 20 bytes");
  });

  it('rejects BYTES data that does not hold exactly the count', () => {
    const two = encodeBytesElements([utf8.encode('a'), utf8.encode('b')]);
    const { body, headerLength } = binaryBody({ inputs: [{ name: 's', shape: [3], datatype: 'BYTES', parameters: { binary_data_size: two.length } }] }, two);
    expectError(() => decodeInferRequestBinary(body, headerLength), 'INPUT_DATA_MISMATCH', "input 's' holds 2 BYTES elements but its shape describes 3");
    const bad = new Uint8Array([9, 0, 0, 0, 1]);
    const b2 = binaryBody({ inputs: [{ name: 's', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 5 } }] }, bad);
    expectError(() => decodeInferRequestBinary(b2.body, b2.headerLength), 'INPUT_DATA_MISMATCH', "input 's' BYTES element 0 declares 9 bytes at byte 0 but only 1 remain");
  });

  it('rejects an input with both data and binary_data_size', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'a', shape: [1], datatype: 'INT8', data: [1], parameters: { binary_data_size: 1 } }] }, new Uint8Array(1));
    expectError(() => decodeInferRequestBinary(body, headerLength), 'MALFORMED_REQUEST', "input 'a' has both data and parameters.binary_data_size");
  });

  it.each([-1, 1.5, '4', true])('rejects binary_data_size %j', (size) => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'a', shape: [1], datatype: 'INT32', parameters: { binary_data_size: size } }] }, new Uint8Array(4));
    expectError(() => decodeInferRequestBinary(body, headerLength), 'PARAMETER_INVALID', 'inputs[0].parameters.binary_data_size is', 'expected a non-negative integer byte count');
  });

  it('rejects BOOL bytes other than 0 and 1', () => {
    const { body, headerLength } = binaryBody({ inputs: [{ name: 'b', shape: [2], datatype: 'BOOL', parameters: { binary_data_size: 2 } }] }, new Uint8Array([1, 7]));
    expectError(() => decodeInferRequestBinary(body, headerLength), 'INPUT_DATA_MISMATCH', "input 'b' (BOOL) element 1 is the byte 7; expected 0 (false) or 1 (true)");
  });
});

describe('decodeRawInferRequest', () => {
  const f32 = (...v: number[]) => bytesOf(new Float32Array(v));

  it('fills a fixed shape exactly and asks for binary outputs', () => {
    const request = decodeRawInferRequest(f32(1, 2, 3, 4), { name: 'x', datatype: 'FP32', shape: [2, 2] });
    expect(request).toEqual({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      parameters: { binary_data_output: true },
    });
    expect(binaryOutputSelector(request)('anything')).toBe(true);
  });

  it('deduces the one variable dimension from the byte length', () => {
    expect(decodeRawInferRequest(f32(1, 2, 3, 4, 5, 6), { name: 'x', datatype: 'FP32', shape: [-1, 3] }).inputs[0]!.shape).toEqual([2, 3]);
    expect(decodeRawInferRequest(new Uint8Array(10), { name: 'x', datatype: 'UINT8', shape: [2, -1] }).inputs[0]!.shape).toEqual([2, 5]);
    expect(decodeRawInferRequest(new Uint8Array(0), { name: 'x', datatype: 'FP32', shape: [-1, 4] }).inputs[0]!.shape).toEqual([0, 4]);
  });

  it('treats a batched model as batch 1', () => {
    const r = decodeRawInferRequest(f32(1, 2, 3, 4), { name: 'x', datatype: 'FP32', shape: [-1, 4] }, { batched: true });
    expect(r.inputs[0]!.shape).toEqual([1, 4]);
    expect(decodeRawInferRequest(new Uint8Array(12), { name: 'img', datatype: 'UINT8', shape: [-1, -1, 3] }, { batched: true }).inputs[0]!.shape).toEqual([1, 4, 3]);
    expectError(
      () => decodeRawInferRequest(f32(1, 2, 3, 4, 5, 6, 7, 8), { name: 'x', datatype: 'FP32', shape: [-1, 4] }, { batched: true }),
      'INPUT_DATA_MISMATCH',
      "input 'x' has shape [-1,4], which takes 16 bytes of FP32 per batch item, but the raw binary body has 32",
    );
  });

  it('copies unaligned bodies into owned arrays', () => {
    const view = atOffset(bytesOf(new Int32Array([5, -6, 7])), 3);
    const r = decodeRawInferRequest(view, { name: 'x', datatype: 'INT32', shape: [-1] });
    expect(r.inputs[0]!.data).toEqual(new Int32Array([5, -6, 7]));
    expect(ownsBuffer(r.inputs[0]!.data)).toBe(true);
    view.fill(0);
    expect(r.inputs[0]!.data).toEqual(new Int32Array([5, -6, 7]));
  });

  it('takes the whole body as one BYTES element', () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 1]);
    const r = decodeRawInferRequest(atOffset(jpeg, 1), { name: 'image', datatype: 'BYTES', shape: [1] });
    expect(r).toEqual({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [jpeg] }], parameters: { binary_data_output: true } });
    expect(ownsBuffer(r.inputs[0]!.data)).toBe(true);
    expect(decodeRawInferRequest(jpeg, { name: 'image', datatype: 'BYTES', shape: [-1, 1] }, { batched: true }).inputs[0]!.shape).toEqual([1, 1]);
    expect(decodeRawInferRequest(jpeg, { name: 'image', datatype: 'BYTES', shape: [-1] }).inputs[0]!.shape).toEqual([1]);
  });

  it('rejects shapes it cannot deduce', () => {
    expectError(() => decodeRawInferRequest(new Uint8Array(4), { name: 'x', datatype: 'FP32', shape: [-1, -1] }), 'INPUT_SHAPE_MISMATCH', "input 'x' has shape [-1,-1], with more than one variable dimension");
    expectError(() => decodeRawInferRequest(new Uint8Array(4), { name: 's', datatype: 'BYTES', shape: [3] }), 'INPUT_SHAPE_MISMATCH', "input 's' (BYTES) has shape [3]; a raw binary request fills only a BYTES input of shape [1]");
  });

  it('rejects byte lengths that do not fit', () => {
    expectError(() => decodeRawInferRequest(new Uint8Array(10), { name: 'x', datatype: 'FP32', shape: [-1] }), 'INPUT_DATA_MISMATCH', "the raw binary body of input 'x' has 10 bytes, not a whole number of FP32 elements (4 bytes each)");
    expectError(() => decodeRawInferRequest(f32(1, 2, 3, 4), { name: 'x', datatype: 'FP32', shape: [-1, 3] }), 'INPUT_DATA_MISMATCH', "the raw binary body holds 4 FP32 elements, which do not fill input 'x' of shape [-1,3] (a multiple of 3 elements)");
    expectError(() => decodeRawInferRequest(f32(1, 2, 3), { name: 'x', datatype: 'FP32', shape: [2, 2] }), 'INPUT_DATA_MISMATCH', "input 'x' has shape [2,2], which takes 16 bytes of FP32, but the raw binary body has 12");
    expectError(() => decodeRawInferRequest(new Uint8Array([0, 2]), { name: 'b', datatype: 'BOOL', shape: [-1] }), 'INPUT_DATA_MISMATCH', "input 'b' (BOOL) element 1 is the byte 2");
  });
});

describe('binaryOutputSelector', () => {
  const req = (parameters?: InferRequest['parameters'], outputs?: InferRequest['outputs']): InferRequest => ({
    inputs: [],
    ...(parameters ? { parameters } : {}),
    ...(outputs ? { outputs } : {}),
  });

  it('is JSON for everything by default', () => {
    expect(binaryOutputSelector(req())('y')).toBe(false);
    expect(binaryOutputSelector(req({ binary_data_output: false }, [{ name: 'y' }]))('y')).toBe(false);
  });

  it('makes every output binary with binary_data_output', () => {
    const isBinary = binaryOutputSelector(req({ binary_data_output: true }));
    expect([isBinary('a'), isBinary('b')]).toEqual([true, true]);
  });

  it('lets a requested output’s binary_data override either way', () => {
    const allBinary = binaryOutputSelector(req({ binary_data_output: true }, [{ name: 'a', parameters: { binary_data: false } }, { name: 'b' }]));
    expect([allBinary('a'), allBinary('b'), allBinary('c')]).toEqual([false, true, true]);
    const someBinary = binaryOutputSelector(req(undefined, [{ name: 'a', parameters: { binary_data: true } }, { name: 'b', parameters: { binary_data: false } }]));
    expect([someBinary('a'), someBinary('b'), someBinary('c')]).toEqual([true, false, false]);
  });
});

describe('encodeInferResponseBinary / decodeInferResponseBinary', () => {
  const response = (): InferResponse => ({
    model_name: 'mlp',
    model_version: '2',
    id: 'r',
    outputs: [
      { name: 'p', datatype: 'FP32', shape: [2], data: new Float32Array([0.25, 0.75]), parameters: { unit: 'prob' } },
      { name: 'label', datatype: 'INT64', shape: [1], data: new BigInt64Array([9007199254740993n]) },
      { name: 's', datatype: 'BYTES', shape: [1], data: [utf8.encode('ok')] },
    ],
  });

  it('writes binary outputs after the header with merged parameters and no data', () => {
    const { body, headerLength } = encodeInferResponseBinary(response(), (name) => name !== 'label');
    expect(text.decode(body.subarray(0, headerLength))).toBe(
      '{"model_name":"mlp","model_version":"2","id":"r","outputs":[' +
        '{"name":"p","datatype":"FP32","shape":[2],"parameters":{"unit":"prob","binary_data_size":8}},' +
        '{"name":"label","datatype":"INT64","shape":[1],"data":[9007199254740993]},' +
        '{"name":"s","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6}}]}',
    );
    expect([...body.subarray(headerLength)]).toEqual([...bytesOf(new Float32Array([0.25, 0.75])), 2, 0, 0, 0, 0x6f, 0x6b]);
    expect(ownsBuffer(body)).toBe(true);
  });

  it('round-trips through decodeInferResponseBinary, removing binary_data_size', () => {
    const { body, headerLength } = encodeInferResponseBinary(response(), () => true);
    expect(decodeInferResponseBinary(atOffset(body, 1), headerLength)).toEqual(response());
  });

  it('round-trips every datatype, all binary or mixed', () => {
    const r: InferResponse = { model_name: 'm', parameters: { a: true }, outputs: sampleTensors() };
    for (const isBinary of [() => true, (n: string) => n.startsWith('u') || n === 'str' || n === 'f16']) {
      const { body, headerLength } = encodeInferResponseBinary(r, isBinary);
      const decoded = decodeInferResponseBinary(body, headerLength);
      expect(decoded).toEqual(r);
      for (const t of decoded.outputs) expect(ownsBuffer(t.data)).toBe(true);
    }
  });

  it('produces a plain JSON body (header = whole body) when no output is binary', () => {
    const { body, headerLength } = encodeInferResponseBinary(response(), () => false);
    expect(headerLength).toBe(body.length);
    expect(text.decode(body)).toBe(encodeInferResponse(response()));
    expect(decodeInferResponse(body)).toEqual(response());
  });

  it('counts the header length in UTF-8 bytes', () => {
    const r: InferResponse = { model_name: 'modèle✓', outputs: [{ name: 'y', datatype: 'UINT8', shape: [1], data: new Uint8Array([9]) }] };
    const { body, headerLength } = encodeInferResponseBinary(r, () => true);
    expect(body[headerLength]).toBe(9);
    expect(body.length).toBe(headerLength + 1);
    expect(decodeInferResponseBinary(body, headerLength)).toEqual(r);
  });

  it('refuses output data that does not match its datatype (a server bug)', () => {
    const bad = { model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [2], data: [1, 2] }] } as unknown as InferResponse;
    expectError(() => encodeInferResponseBinary(bad, () => true), 'INTERNAL_ERROR', "output 'y' (FP32) data is of type Array; expected Float32Array");
  });

  it('refuses input data that does not match its shape (client side)', () => {
    const bad: InferRequest = { inputs: [{ name: 'x', datatype: 'INT8', shape: [3], data: new Int8Array(2) }] };
    expectError(() => encodeInferRequestBinary(bad), 'INPUT_DATA_MISMATCH', "input 'x' has shape [3], which holds 3 elements, but data has 2");
  });

  it('reports malformed responses as MALFORMED_RESPONSE', () => {
    const { body, headerLength } = encodeInferResponseBinary(response(), () => true);
    expectError(() => decodeInferResponseBinary(body.subarray(0, body.length - 1), headerLength), 'MALFORMED_RESPONSE', "output 's'");
    expectError(() => decodeInferResponseBinary(body, body.length + 1), 'MALFORMED_RESPONSE', 'Inference-Header-Content-Length is');
  });
});
