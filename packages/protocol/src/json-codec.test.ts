import { describe, it, expect } from 'vitest';
import type { InferRequest, InferResponse, Tensor } from './infer.ts';
import { decodeInferRequest, decodeInferResponse, encodeInferRequest, encodeInferResponse, parseJsonExact, tensorDataFromJson, tensorDataToNestedJson } from './json-codec.ts';
import { caught, expectError } from './__fixtures__/errors.ts';
import { ownsBuffer, sampleTensors } from './__fixtures__/tensors.ts';



/** A request body with one input; `input` overrides fields of a valid FP32 [2] input. */
function body(input: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...extra, inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1, 2], ...input }] });
}

function dataOf(json: string, i = 0): Tensor['data'] {
  return decodeInferRequest(json).inputs[i]!.data;
}

describe('decodeInferRequest', () => {
  it('decodes a tabular FP32 request into an owned Float32Array', () => {
    const request = decodeInferRequest(
      '{"id":"r1","parameters":{"priority":1,"tag":"a","flag":true},"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[0.5,-1,2.25,1e3]}],"outputs":[{"name":"probabilities","parameters":{"binary_data":false}}]}',
    );
    expect(request).toEqual({
      id: 'r1',
      parameters: { priority: 1, tag: 'a', flag: true },
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: new Float32Array([0.5, -1, 2.25, 1000]) }],
      outputs: [{ name: 'probabilities', parameters: { binary_data: false } }],
    });
    const data = request.inputs[0]!.data;
    expect(data).toBeInstanceOf(Float32Array);
    expect(ownsBuffer(data)).toBe(true);
  });

  it('omits absent optional fields and treats null as absent', () => {
    const a = decodeInferRequest('{"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[5]}]}');
    expect(Object.keys(a)).toEqual(['inputs']);
    expect(Object.keys(a.inputs[0]!).sort()).toEqual(['data', 'datatype', 'name', 'shape']);
    const b = decodeInferRequest('{"id":null,"parameters":null,"outputs":null,"inputs":[{"name":"x","shape":[1],"datatype":"INT32","parameters":null,"data":[5]}]}');
    expect(b).toEqual(a);
    expect(Object.keys(b)).toEqual(['inputs']);
  });

  it('accepts UTF-8 bytes as well as text', () => {
    const text = body({ name: 'é', datatype: 'BYTES', shape: [1], data: ['ü✓'] });
    const fromBytes = decodeInferRequest(new TextEncoder().encode(text));
    expect(fromBytes).toEqual(decodeInferRequest(text));
    expect(new TextDecoder().decode((fromBytes.inputs[0]!.data as Uint8Array[])[0])).toBe('ü✓');
  });

  it('decodes every datatype into its typed array, each owning its buffer', () => {
    const text = JSON.stringify({
      inputs: [
        { name: 'bool', datatype: 'BOOL', shape: [3], data: [true, false, true] },
        { name: 'u8', datatype: 'UINT8', shape: [2], data: [0, 255] },
        { name: 'u16', datatype: 'UINT16', shape: [2], data: [0, 65535] },
        { name: 'u32', datatype: 'UINT32', shape: [2], data: [0, 4294967295] },
        { name: 'u64', datatype: 'UINT64', shape: [2], data: [0, 4294967296] },
        { name: 'i8', datatype: 'INT8', shape: [2], data: [-128, 127] },
        { name: 'i16', datatype: 'INT16', shape: [2], data: [-32768, 32767] },
        { name: 'i32', datatype: 'INT32', shape: [2], data: [-2147483648, 2147483647] },
        { name: 'i64', datatype: 'INT64', shape: [2], data: [-5, 9007199254740991] },
        { name: 'f16', datatype: 'FP16', shape: [3], data: [1, -2, 65504] },
        { name: 'bf16', datatype: 'BF16', shape: [2], data: [1, Math.PI] },
        { name: 'f32', datatype: 'FP32', shape: [2], data: [0.1, -3] },
        { name: 'f64', datatype: 'FP64', shape: [2], data: [0.1, 5e-324] },
        { name: 'str', datatype: 'BYTES', shape: [2], data: ['ab', ''] },
      ],
    });
    const inputs = decodeInferRequest(text).inputs;
    expect(inputs.map((t) => t.data)).toEqual([
      new Uint8Array([1, 0, 1]),
      new Uint8Array([0, 255]),
      new Uint16Array([0, 65535]),
      new Uint32Array([0, 4294967295]),
      new BigUint64Array([0n, 4294967296n]),
      new Int8Array([-128, 127]),
      new Int16Array([-32768, 32767]),
      new Int32Array([-2147483648, 2147483647]),
      new BigInt64Array([-5n, 9007199254740991n]),
      new Uint16Array([0x3c00, 0xc000, 0x7bff]),
      new Uint16Array([0x3f80, 0x4049]),
      new Float32Array([0.1, -3]),
      new Float64Array([0.1, 5e-324]),
      [new Uint8Array([0x61, 0x62]), new Uint8Array([])],
    ]);
    for (const t of inputs) expect(ownsBuffer(t.data), t.datatype).toBe(true);
  });

  describe('INT64 / UINT64 exactness', () => {
    it('keeps integers beyond 2^53 exact', () => {
      const text =
        '{"inputs":[{"name":"a","shape":[4],"datatype":"INT64","data":[9007199254740993,-9223372036854775808,9223372036854775807,-9007199254740993]},' +
        '{"name":"b","shape":[2],"datatype":"UINT64","data":[18446744073709551615,9007199254740993]}]}';
      const [a, b] = decodeInferRequest(text).inputs;
      expect(a!.data).toEqual(new BigInt64Array([9007199254740993n, -9223372036854775808n, 9223372036854775807n, -9007199254740993n]));
      expect(b!.data).toEqual(new BigUint64Array([18446744073709551615n, 9007199254740993n]));
      expect(ownsBuffer(a!.data) && ownsBuffer(b!.data)).toBe(true);
    });

    it('accepts decimal strings (protobuf JSON), mixed with numbers', () => {
      expect(dataOf(body({ datatype: 'INT64', shape: [3], data: ['-9223372036854775808', 7, '9007199254740993'] }))).toEqual(
        new BigInt64Array([-9223372036854775808n, 7n, 9007199254740993n]),
      );
      expect(dataOf(body({ datatype: 'UINT64', shape: [1], data: ['18446744073709551615'] }))).toEqual(new BigUint64Array([18446744073709551615n]));
    });

    it('decodes the rest of the document the same way on the exact re-parse', () => {
      const text =
        '{"id":"x","parameters":{"p":1.5,"big":12345678901234567890},"inputs":[' +
        '{"name":"f","shape":[2,2],"datatype":"FP32","data":[[0.1,12345678901234567890],[1e3,-2]]},' +
        '{"name":"d","shape":[1],"datatype":"FP64","data":[9007199254740993]},' +
        '{"name":"i","shape":[1],"datatype":"INT64","data":[[9007199254740993]]}]}';
      const r = decodeInferRequest(text);
      expect(r.id).toBe('x');
      expect(r.parameters).toEqual({ p: 1.5, big: 12345678901234567890n });
      expect(r.inputs[0]!.shape).toEqual([2, 2]);
      expect(typeof r.inputs[0]!.shape[0]).toBe('number');
      expect(r.inputs[0]!.data).toEqual(new Float32Array([0.1, Number('12345678901234567890'), 1000, -2]));
      expect(r.inputs[1]!.data).toEqual(new Float64Array([9007199254740992]));
      expect(r.inputs[2]!.data).toEqual(new BigInt64Array([9007199254740993n]));
    });

    it('keeps parameters beyond 2^53 exact as bigint', () => {
      const r = decodeInferRequest('{"parameters":{"sequence_id":18446744073709551615},"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}');
      expect(r.parameters).toEqual({ sequence_id: 18446744073709551615n });
    });

    it.each([
      ['INT64', '9223372036854775808', "input 'x' (INT64) element 0 is 9223372036854775808; expected an integer in [-9223372036854775808, 9223372036854775807]"],
      ['INT64', '-9223372036854775809', 'element 0 is -9223372036854775809; expected an integer in'],
      ['UINT64', '18446744073709551616', "input 'x' (UINT64) element 0 is 18446744073709551616; expected an integer in [0, 18446744073709551615]"],
      ['UINT64', '-1', "input 'x' (UINT64) element 0 is -1; expected an integer in [0, 18446744073709551615]"],
      ['INT64', '1.5', 'element 0 is 1.5; expected an integer'],
      ['INT64', '1e19', 'element 0 is 10000000000000000000; expected an integer'],
      ['INT64', '"12a"', 'element 0 is "12a"; expected an integer'],
      ['INT64', '"0x10"', 'element 0 is "0x10"'],
      ['INT64', '" 1"', 'element 0 is " 1"'],
      ['INT64', '""', 'element 0 is ""'],
      ['INT64', 'true', 'element 0 is true'],
      ['UINT64', '"-1"', 'element 0 is "-1"'],
    ])('rejects %s element %s', (datatype, element, message) => {
      const text = `{"inputs":[{"name":"x","shape":[1],"datatype":"${datatype}","data":[${element}]}]}`;
      expectError(() => decodeInferRequest(text), 'INPUT_DATA_MISMATCH', message);
    });
  });

  describe('nested data', () => {
    it('flattens nested arrays row-major', () => {
      expect(dataOf(body({ shape: [2, 3], data: [[1, 2, 3], [4, 5, 6]] }))).toEqual(new Float32Array([1, 2, 3, 4, 5, 6]));
      expect(dataOf(body({ datatype: 'INT8', shape: [2, 2, 1], data: [[[1], [2]], [[3], [4]]] }))).toEqual(new Int8Array([1, 2, 3, 4]));
      expect(dataOf(body({ datatype: 'BOOL', shape: [2, 1], data: [[true], [false]] }))).toEqual(new Uint8Array([1, 0]));
      expect(dataOf(body({ datatype: 'BYTES', shape: [1, 2], data: [['a', 'b']] }))).toEqual([new Uint8Array([97]), new Uint8Array([98])]);
      expect(dataOf(body({ datatype: 'FP16', shape: [1, 1], data: [[1]] }))).toEqual(new Uint16Array([0x3c00]));
    });

    it('checks only the total count, not the nesting', () => {
      expect(dataOf(body({ shape: [3], data: [1, [2, [3]]] }))).toEqual(new Float32Array([1, 2, 3]));
      expect(dataOf(body({ shape: [2, 2], data: [1, 2, 3, 4] }))).toEqual(new Float32Array([1, 2, 3, 4]));
    });

    it('accepts empty tensors', () => {
      expect(dataOf(body({ shape: [0], data: [] }))).toEqual(new Float32Array(0));
      expect(dataOf(body({ shape: [2, 0], data: [[], []] }))).toEqual(new Float32Array(0));
    });

    it('counts leaves when the top-level length equals the count but the data is nested', () => {
      expectError(() => decodeInferRequest(body({ shape: [2], data: [[1, 2], [3]] })), 'INPUT_DATA_MISMATCH', "input 'x' has shape [2], which holds 2 elements, but data has 3");
      expectError(() => decodeInferRequest(body({ shape: [3], data: [[], 1, 2] })), 'INPUT_DATA_MISMATCH', 'which holds 3 elements, but data has 2');
    });

    it('reports the flat index of a bad element inside nested data', () => {
      expectError(() => decodeInferRequest(body({ datatype: 'INT8', shape: [2, 2], data: [[1, 2], [3, 300]] })), 'INPUT_DATA_MISMATCH', "input 'x' (INT8) element 3 is 300; expected an integer in [-128, 127]");
    });

    it('rejects absurdly deep nesting as malformed, not as an internal error', () => {
      const depth = 200_000;
      const text = `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`;
      const e = caught(() => decodeInferRequest(text));
      expect(e.reason).toBe('MALFORMED_REQUEST');
    });
  });

  describe('errors', () => {
    it('rejects a body that is not JSON', () => {
      const e = expectError(() => decodeInferRequest('{"inputs": [1,}'), 'MALFORMED_REQUEST', 'request body is not valid JSON: ');
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.httpStatus).toBe(400);
      expectError(() => decodeInferRequest(''), 'MALFORMED_REQUEST', 'not valid JSON');
    });

    it('rejects bytes that are not UTF-8', () => {
      expectError(() => decodeInferRequest(new Uint8Array([0x7b, 0xff, 0x7d])), 'MALFORMED_REQUEST', 'request body is not valid UTF-8');
    });

    it.each([
      ['[1,2]', 'request body is an array; expected a JSON object'],
      ['null', 'request body is null; expected a JSON object'],
      ['"x"', 'request body is the string "x"; expected a JSON object'],
      ['{}', "request 'inputs' is missing; expected a non-empty array of input tensors"],
      ['{"inputs":[]}', "request 'inputs' is empty; expected a non-empty array"],
      ['{"inputs":{"name":"x"}}', "request 'inputs' is an object; expected a non-empty array"],
      ['{"inputs":[7]}', 'inputs[0] is the number 7; expected an object with name, shape, datatype and data'],
      ['{"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]}', 'inputs[0].name is missing; expected a non-empty string'],
      ['{"inputs":[{"name":"","shape":[1],"datatype":"FP32","data":[1]}]}', 'inputs[0].name is the string ""; expected a non-empty string'],
      ['{"inputs":[{"name":3,"shape":[1],"datatype":"FP32","data":[1]}]}', 'inputs[0].name is the number 3; expected a non-empty string'],
    ])('rejects the document %s', (text, message) => {
      expectError(() => decodeInferRequest(text), 'MALFORMED_REQUEST', message);
    });

    it('names an unknown datatype and lists the allowed ones', () => {
      const text = JSON.stringify({
        inputs: [
          { name: 'a', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'b', shape: [1], datatype: 'FP8', data: [1] },
        ],
      });
      expectError(
        () => decodeInferRequest(text),
        'MALFORMED_REQUEST',
        'inputs[1].datatype is "FP8"; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64, BYTES',
      );
      expectError(() => decodeInferRequest(body({ datatype: 'fp32' })), 'MALFORMED_REQUEST', 'inputs[0].datatype is "fp32"');
      expectError(() => decodeInferRequest(body({ datatype: undefined })), 'MALFORMED_REQUEST', 'inputs[0].datatype is missing');
    });

    it.each([
      [[-1], '[-1]'],
      [[1.5], '[1.5]'],
      [['2'], '["2"]'],
      [2, '2'],
      [null, 'null'],
      [[2 ** 53 + 2], '[9007199254740994]'],
    ])('rejects shape %j', (shape, shown) => {
      expectError(() => decodeInferRequest(body({ shape })), 'MALFORMED_REQUEST', `inputs[0].shape is ${shown}; expected an array of non-negative integers`);
    });

    it('rejects a missing shape', () => {
      expectError(() => decodeInferRequest(body({ shape: undefined })), 'MALFORMED_REQUEST', 'inputs[0].shape is missing; expected an array of non-negative integers');
    });

    it('rejects missing or non-array data', () => {
      expectError(
        () => decodeInferRequest(body({ data: undefined, shape: [2, 3] })),
        'MALFORMED_REQUEST',
        "input 'x' has no data; expected data (a JSON array of 6 elements) or parameters.binary_data_size",
      );
      expectError(() => decodeInferRequest(body({ data: null })), 'MALFORMED_REQUEST', "input 'x' has no data");
      expectError(() => decodeInferRequest(body({ data: 5, shape: [1] })), 'MALFORMED_REQUEST', "input 'x' data is the number 5; expected a JSON array of 1 element");
    });

    it('rejects an element count that differs from the shape', () => {
      expectError(() => decodeInferRequest(body({ shape: [2, 3], data: [1, 2, 3, 4, 5] })), 'INPUT_DATA_MISMATCH', "input 'x' has shape [2,3], which holds 6 elements, but data has 5");
      expectError(() => decodeInferRequest(body({ shape: [1], data: [1, 2] })), 'INPUT_DATA_MISMATCH', 'which holds 1 element, but data has 2');
      expectError(() => decodeInferRequest(body({ shape: [], data: [] })), 'INPUT_DATA_MISMATCH', 'shape [], which holds 1 element, but data has 0');
    });

    it('does not allocate what the shape claims before counting the data', () => {
      expectError(() => decodeInferRequest(body({ shape: [4096, 4096], data: [1] })), 'INPUT_DATA_MISMATCH', 'which holds 16777216 elements, but data has 1');
      // Past the element limit, the shape alone is refused, naming the limit.
      expectError(() => decodeInferRequest(body({ shape: [1e9, 1e9], data: [1] })), 'REQUEST_LIMIT_EXCEEDED', '1000000000000000000 elements; at most 67108864 elements per tensor are accepted (limits.maxTensorElements)');
    });

    it('applies the element limits it is given, per tensor and per request', () => {
      const limits = { maxTensorElements: 4, maxRequestElements: 6 };
      expect(decodeInferRequest(body({ shape: [2, 2], data: [1, 2, 3, 4] }), undefined, { elementLimits: limits }).inputs[0]!.shape).toEqual([2, 2]);
      expectError(() => decodeInferRequest(body({ shape: [5], data: [1, 2, 3, 4, 5] }), undefined, { elementLimits: limits }), 'REQUEST_LIMIT_EXCEEDED', 'at most 4 elements per tensor');
      const two = JSON.stringify({ inputs: [{ name: 'a', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }, { name: 'b', datatype: 'FP32', shape: [3], data: [1, 2, 3] }] });
      expectError(() => decodeInferRequest(two, undefined, { elementLimits: limits }), 'REQUEST_LIMIT_EXCEEDED', "inputs up to input 'b' have 7 elements; at most 6 elements per request");
    });

    it.each([
      ['INT8', '300', "input 'x' (INT8) element 1 is 300; expected an integer in [-128, 127]"],
      ['INT8', '-129', 'element 1 is -129; expected an integer in [-128, 127]'],
      ['UINT8', '-1', "input 'x' (UINT8) element 1 is -1; expected an integer in [0, 255]"],
      ['UINT8', '256', 'expected an integer in [0, 255]'],
      ['INT16', '32768', 'expected an integer in [-32768, 32767]'],
      ['UINT16', '65536', 'expected an integer in [0, 65535]'],
      ['INT32', '2147483648', 'element 1 is 2147483648; expected an integer in [-2147483648, 2147483647]'],
      ['UINT32', '4294967296', 'expected an integer in [0, 4294967295]'],
      ['INT32', '1.5', 'element 1 is 1.5; expected an integer in'],
      ['INT32', '"3"', 'element 1 is "3"; expected an integer'],
      ['FP32', '"abc"', "input 'x' (FP32) element 1 is \"abc\"; expected a number"],
      ['FP32', 'null', 'element 1 is null; expected a number'],
      ['FP64', 'true', 'element 1 is true; expected a number'],
      ['FP32', '{"a":1}', 'element 1 is {"a":1}; expected a number'],
      ['FP16', '"1"', "input 'x' (FP16) element 1 is \"1\"; expected a number"],
      ['BF16', 'null', "input 'x' (BF16) element 1 is null; expected a number"],
      ['BOOL', '1', "input 'x' (BOOL) element 1 is 1; expected true or false"],
      ['BOOL', '"true"', 'element 1 is "true"; expected true or false'],
      ['BYTES', '5', "input 'x' (BYTES) element 1 is 5; expected a string"],
    ])('rejects a %s element %s', (datatype, element, message) => {
      const first = datatype === 'BOOL' ? 'true' : datatype === 'BYTES' ? '"a"' : '0';
      const text = `{"inputs":[{"name":"x","shape":[2],"datatype":"${datatype}","data":[${first},${element}]}]}`;
      expectError(() => decodeInferRequest(text), 'INPUT_DATA_MISMATCH', message);
    });

    it('truncates long offending values in messages', () => {
      const long = 'y'.repeat(500);
      const e = expectError(() => decodeInferRequest(body({ data: [1, long] })), 'INPUT_DATA_MISMATCH', `element 1 is "${'y'.repeat(39)}…; expected a number`);
      expect(e.message.length).toBeLessThan(120);
    });

    it('rejects an id that is not a string', () => {
      expectError(() => decodeInferRequest(body({}, { id: 5 })), 'MALFORMED_REQUEST', "request 'id' is the number 5; expected a string");
    });

    it.each([
      [{ parameters: [1] }, 'parameters is an array; expected an object of string, number or boolean values'],
      [{ parameters: 'x' }, 'parameters is the string "x"; expected an object'],
      [{ parameters: { a: { b: 1 } } }, 'parameters.a is an object; expected a string, number or boolean'],
      [{ parameters: { a: null } }, 'parameters.a is null; expected a string, number or boolean'],
      [{ parameters: { a: [1] } }, 'parameters.a is an array; expected a string, number or boolean'],
      [{ parameters: { binary_data_output: 'yes' } }, 'parameters.binary_data_output is the string "yes"; expected true or false'],
    ])('rejects request parameters %j', (extra, message) => {
      expectError(() => decodeInferRequest(body({}, extra)), 'PARAMETER_INVALID', message);
    });

    it('rejects bad input parameters, naming the input', () => {
      expectError(() => decodeInferRequest(body({ parameters: { w: [] } })), 'PARAMETER_INVALID', 'inputs[0].parameters.w is an array; expected a string, number or boolean');
      expectError(() => decodeInferRequest(body({ parameters: 3 })), 'PARAMETER_INVALID', 'inputs[0].parameters is the number 3; expected an object');
    });

    it.each([
      [{ outputs: {} }, 'MALFORMED_REQUEST', "request 'outputs' is an object; expected an array"],
      [{ outputs: ['y'] }, 'MALFORMED_REQUEST', 'outputs[0] is the string "y"; expected an object {"name": string'],
      [{ outputs: [{}] }, 'MALFORMED_REQUEST', 'outputs[0].name is missing; expected a non-empty string'],
      [{ outputs: [{ name: 'a' }, { name: 1 }] }, 'MALFORMED_REQUEST', 'outputs[1].name is the number 1; expected a non-empty string'],
      [{ outputs: [{ name: 'y', parameters: 1 }] }, 'PARAMETER_INVALID', 'outputs[0].parameters is the number 1; expected an object'],
      [{ outputs: [{ name: 'y', parameters: { binary_data: 1 } }] }, 'PARAMETER_INVALID', 'outputs[0].parameters.binary_data is the number 1; expected true or false'],
    ] as const)('rejects outputs %j', (extra, reason, message) => {
      expectError(() => decodeInferRequest(body({}, extra)), reason, message);
    });

    it('rejects the same input name twice', () => {
      const text = JSON.stringify({
        inputs: [
          { name: 'a', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'b', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'a', shape: [1], datatype: 'FP32', data: [1] },
        ],
      });
      expectError(() => decodeInferRequest(text), 'INPUT_DUPLICATE', "inputs[2].name 'a' repeats inputs[0].name");
    });

    it('rejects binary_data_size in a plain JSON body', () => {
      expectError(
        () => decodeInferRequest(body({ data: undefined, parameters: { binary_data_size: 8 } })),
        'MALFORMED_REQUEST',
        "input 'x' has parameters.binary_data_size but the body carries no binary data",
      );
    });
  });
});

describe('encodeInferResponse', () => {
  it('writes the V2 response text directly, omitting absent optional fields', () => {
    const response: InferResponse = {
      model_name: 'mlp',
      model_version: '3',
      id: 'r"1',
      parameters: { took_ms: 1.5, cached: false, big: 9007199254740993n, note: 'é' },
      outputs: [
        { name: 'p', datatype: 'FP32', shape: [1, 2], data: new Float32Array([0.25, 0.75]) },
        { name: 'label', datatype: 'BYTES', shape: [1], data: [new TextEncoder().encode('cat "x"')], parameters: { kind: 'text' } },
      ],
    };
    expect(encodeInferResponse(response)).toBe(
      '{"model_name":"mlp","model_version":"3","id":"r\\"1","parameters":{"took_ms":1.5,"cached":false,"big":9007199254740993,"note":"é"},' +
        '"outputs":[{"name":"p","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]},' +
        '{"name":"label","datatype":"BYTES","shape":[1],"parameters":{"kind":"text"},"data":["cat \\"x\\""]}]}',
    );
    expect(encodeInferResponse({ model_name: 'm', outputs: [] })).toBe('{"model_name":"m","outputs":[]}');
  });

  it('writes non-finite floats as null and the rest as exact numbers', () => {
    const text = encodeInferResponse({
      model_name: 'm',
      outputs: [
        { name: 'f', datatype: 'FP32', shape: [5], data: new Float32Array([NaN, 1, Infinity, -Infinity, 0.5]) },
        { name: 'd', datatype: 'FP64', shape: [2], data: new Float64Array([1e21, -1e-7]) },
        { name: 'h', datatype: 'FP16', shape: [4], data: new Uint16Array([0x3c00, 0x7e00, 0xfc00, 0x0001]) },
        { name: 'b', datatype: 'BF16', shape: [2], data: new Uint16Array([0x4049, 0x7f80]) },
      ],
    });
    const outputs = (JSON.parse(text) as { outputs: { data: unknown[] }[] }).outputs;
    expect(outputs.map((o) => o.data)).toEqual([
      [null, 1, null, null, 0.5],
      [1e21, -1e-7],
      [1, null, null, 2 ** -24],
      [3.140625, null],
    ]);
  });

  it('writes BOOL as true/false and 64-bit integers exactly', () => {
    const text = encodeInferResponse({
      model_name: 'm',
      outputs: [
        { name: 'b', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
        { name: 'i', datatype: 'INT64', shape: [2], data: new BigInt64Array([-9223372036854775808n, 9007199254740993n]) },
        { name: 'u', datatype: 'UINT64', shape: [1], data: new BigUint64Array([18446744073709551615n]) },
      ],
    });
    expect(text).toContain('"data":[true,false,true]');
    expect(text).toContain('"data":[-9223372036854775808,9007199254740993]');
    expect(text).toContain('"data":[18446744073709551615]');
  });

  it('refuses output data that does not match its datatype or shape (a server bug)', () => {
    const wrongType = { model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: new Float64Array([1]) }] } as InferResponse;
    expectError(() => encodeInferResponse(wrongType), 'INTERNAL_ERROR', "output 'y' (FP32) data is of type Float64Array; expected Float32Array");
    const wrongCount = { model_name: 'm', outputs: [{ name: 'y', datatype: 'INT32', shape: [2, 2], data: new Int32Array(3) }] } as InferResponse;
    expectError(() => encodeInferResponse(wrongCount), 'INTERNAL_ERROR', "output 'y' has shape [2,2], which holds 4 elements, but data has 3");
    const notBytes = { model_name: 'm', outputs: [{ name: 's', datatype: 'BYTES', shape: [1], data: new Uint8Array(1) }] } as InferResponse;
    expectError(() => encodeInferResponse(notBytes), 'INTERNAL_ERROR', "output 's' (BYTES) data must be an array of Uint8Array");
  });

  it('refuses BYTES that are not UTF-8 (JSON has no faithful spelling for them; they used to become U+FFFD)', () => {
    const data = [new TextEncoder().encode('ok'), Uint8Array.from([0xff, 0xfe])];
    const response: InferResponse = { model_name: 'm', outputs: [{ name: 's', datatype: 'BYTES', shape: [2], data }] };
    const e = expectError(() => encodeInferResponse(response), 'BYTES_NOT_TEXT', "output 's' (BYTES) element 1 is not valid UTF-8", 'binary_data_output');
    expect(e.code).toBe('INVALID_ARGUMENT');
    expectError(() => encodeInferRequest({ inputs: [{ name: 'q', datatype: 'BYTES', shape: [2], data }] }), 'BYTES_NOT_TEXT', "input 'q' (BYTES) element 1 is not valid UTF-8");
    // Nested JSON (TF Serving) counts the element in the whole tensor, also for a slice of it.
    expectError(() => tensorDataToNestedJson('BYTES', data, [1, 2], "output 's'"), 'BYTES_NOT_TEXT', "output 's' (BYTES) element 1 ");
    expectError(() => tensorDataToNestedJson('BYTES', data, [2], "output 's'", 6), 'BYTES_NOT_TEXT', "output 's' (BYTES) element 7 ");
  });
});

describe('JSON round trips', () => {
  it('round-trips every datatype through encodeInferResponse → decodeInferResponse', () => {
    const response: InferResponse = { model_name: 'm', model_version: '1', id: 'abc', parameters: { n: 1 }, outputs: sampleTensors() };
    const decoded = decodeInferResponse(encodeInferResponse(response));
    expect(decoded).toEqual(response);
    for (const t of decoded.outputs) expect(ownsBuffer(t.data), t.datatype).toBe(true);
  });

  it('round-trips every datatype through encodeInferRequest → decodeInferRequest', () => {
    const request: InferRequest = {
      id: 'q',
      parameters: { binary_data_output: false, seq: 18446744073709551615n },
      inputs: sampleTensors().map((t) => ({ ...t, parameters: { note: t.name } })),
      outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'z' }],
    };
    const text = encodeInferRequest(request);
    expect(decodeInferRequest(text)).toEqual(request);
    expect(decodeInferRequest(new TextEncoder().encode(text))).toEqual(request);
  });

  it('encodes requests in the V2 field order', () => {
    const text = encodeInferRequest({
      id: '1',
      parameters: { a: 1 },
      inputs: [{ name: 'x', datatype: 'INT32', shape: [2], data: new Int32Array([1, 2]) }],
      outputs: [{ name: 'y' }],
    });
    expect(text).toBe('{"id":"1","parameters":{"a":1},"inputs":[{"name":"x","datatype":"INT32","shape":[2],"data":[1,2]}],"outputs":[{"name":"y"}]}');
    expect(encodeInferRequest({ inputs: [{ name: 'x', datatype: 'BOOL', shape: [1], data: new Uint8Array([0]) }] })).toBe(
      '{"inputs":[{"name":"x","datatype":"BOOL","shape":[1],"data":[false]}]}',
    );
  });

  it('refuses request data that does not match (INPUT_DATA_MISMATCH)', () => {
    const bad = { inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: new Int32Array(1) }] } as InferRequest;
    expectError(() => encodeInferRequest(bad), 'INPUT_DATA_MISMATCH', "input 'x' (INT64) data is of type Int32Array; expected BigInt64Array");
  });
});

describe('decodeInferResponse', () => {
  it('reads null float elements as NaN', () => {
    const r = decodeInferResponse('{"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[null,1]},{"name":"h","datatype":"FP16","shape":[1],"data":[null]}]}');
    expect(Number.isNaN((r.outputs[0]!.data as Float32Array)[0])).toBe(true);
    expect((r.outputs[0]!.data as Float32Array)[1]).toBe(1);
    expect(r.outputs[1]!.data).toEqual(new Uint16Array([0x7e00]));
  });

  it('keeps 64-bit integers exact', () => {
    const r = decodeInferResponse('{"model_name":"m","outputs":[{"name":"y","datatype":"UINT64","shape":[1],"data":[18446744073709551615]}]}');
    expect(r.outputs[0]!.data).toEqual(new BigUint64Array([18446744073709551615n]));
  });

  it.each([
    ['nope', 'response body is not valid JSON'],
    ['[]', 'response body is an array; expected a JSON object'],
    ['{"outputs":[]}', "response 'model_name' is missing; expected a string"],
    ['{"model_name":"m"}', "response 'outputs' is missing; expected an array"],
    ['{"model_name":"m","model_version":1,"outputs":[]}', "response 'model_version' is the number 1; expected a string"],
    ['{"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1]}]}', "output 'y' has shape [2], which holds 2 elements, but data has 1"],
    ['{"model_name":"m","outputs":[{"name":"y","datatype":"INT8","shape":[1],"data":[999]}]}', "output 'y' (INT8) element 0 is 999"],
    ['{"model_name":"m","parameters":[],"outputs":[]}', 'parameters is an array'],
  ])('reports a bad response %s as MALFORMED_RESPONSE', (text, message) => {
    const e = expectError(() => decodeInferResponse(text), 'MALFORMED_RESPONSE', message);
    expect(e.code).toBe('INTERNAL');
  });
});

describe('JSON tensor data for other dialects', () => {
  it('parseJsonExact keeps integers beyond 2^53 exact and refuses text that is not JSON', () => {
    expect(parseJsonExact('{"a":[9007199254740993,1.5,2]}')).toEqual({ a: [9007199254740993n, 1.5, 2] });
    expectError(() => parseJsonExact('{"a":'), 'MALFORMED_REQUEST', 'not valid JSON');
  });

  it('tensorDataFromJson decodes nested data with the V2 element rules', () => {
    expect(tensorDataFromJson({ name: 'x', datatype: 'INT64', shape: [2] }, [[9007199254740993n], [-1]])).toEqual(new BigInt64Array([9007199254740993n, -1n]));
    expectError(() => tensorDataFromJson({ name: 'x', datatype: 'UINT8', shape: [2] }, [1, 256]), 'INPUT_DATA_MISMATCH', "input 'x' (UINT8) element 1 is 256");
  });

  it('tensorDataToNestedJson nests by the shape, a scalar shape gives the bare element', () => {
    expect(tensorDataToNestedJson('FP32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 1, 3])).toBe('[[[1,2,3]],[[4,5,6]]]');
    expect(tensorDataToNestedJson('INT64', new BigInt64Array([9007199254740993n]), [])).toBe('9007199254740993');
    expect(tensorDataToNestedJson('BOOL', new Uint8Array(0), [2, 0])).toBe('[[],[]]');
  });
});
