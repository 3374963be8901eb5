// The structural limits of one request, in every wire format of the protocol package: each is
// refused with REQUEST_LIMIT_EXCEEDED naming the limit, the count and where, before the work the
// structure would cost (issue 13, H2: 100k inputs took 13.9 s of event loop to be refused).
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { expectError } from './__fixtures__/errors.ts';
import { decodeInferRequestBinary, encodeInferRequestBinary } from './binary-codec.ts';
import { GRPC_LOADER_OPTIONS, decodeGrpcInferRequest, decodeGrpcInferResponse, type GrpcModelInferRequest } from './grpc-codec.ts';
import { decodeInferRequest, decodeInferResponse, parseJsonExact } from './json-codec.ts';
import { REQUEST_LIMITS } from './request-limits.ts';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => PROTO_DIR + target.replace(/^.*\//, '');
root.loadSync('grpc_service.proto', { keepCase: true });
const RequestType = root.lookupType('inference.ModelInferRequest');

/** Through the wire, as grpc-js with proto-loader does. */
function wire(message: GrpcModelInferRequest): GrpcModelInferRequest {
  const bytes = RequestType.encode(RequestType.fromObject(message)).finish();
  return RequestType.toObject(RequestType.decode(bytes), GRPC_LOADER_OPTIONS) as GrpcModelInferRequest;
}

const input = (name: string, extra: Record<string, unknown> = {}) => ({ name, shape: [1], datatype: 'FP32', data: [1], ...extra });
const manyInputs = (n: number) => Array.from({ length: n }, (_, i) => input(`x${i}`));
const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

describe('REST JSON and binary requests', () => {
  it('refuses 100k inputs (the H2 reproduction) by the count, before decoding them', () => {
    const text = JSON.stringify({ inputs: manyInputs(100_000) });
    const e = expectError(() => decodeInferRequest(text), 'REQUEST_LIMIT_EXCEEDED', 'request has 100000 inputs', `at most ${REQUEST_LIMITS.maxInputs}`);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.details).toEqual({ limit: REQUEST_LIMITS.maxInputs, count: 100_000 });
  });

  it('accepts exactly the limit of inputs and still finds a duplicate among them', () => {
    const inputs = manyInputs(REQUEST_LIMITS.maxInputs);
    expect(decodeInferRequest(JSON.stringify({ inputs })).inputs).toHaveLength(REQUEST_LIMITS.maxInputs);
    inputs[REQUEST_LIMITS.maxInputs - 1] = input('x7');
    expectError(() => decodeInferRequest(JSON.stringify({ inputs })), 'INPUT_DUPLICATE', `inputs[${REQUEST_LIMITS.maxInputs - 1}].name 'x7' repeats inputs[7].name`);
  });

  it('refuses too many requested outputs', () => {
    const outputs = Array.from({ length: REQUEST_LIMITS.maxOutputs + 1 }, (_, i) => ({ name: `y${i}` }));
    expectError(() => decodeInferRequest(JSON.stringify({ inputs: [input('x')], outputs })), 'REQUEST_LIMIT_EXCEEDED', `request has ${REQUEST_LIMITS.maxOutputs + 1} outputs`);
  });

  it.each([
    ['the request', (p: object) => ({ inputs: [input('x')], parameters: p }), 'parameters has'],
    ['an input', (p: object) => ({ inputs: [input('x', { parameters: p })] }), 'inputs[0].parameters has'],
    ['an output', (p: object) => ({ inputs: [input('x')], outputs: [{ name: 'y', parameters: p }] }), 'outputs[0].parameters has'],
  ])('refuses too many parameters on %s', (_what, make, where) => {
    const n = REQUEST_LIMITS.maxParameters + 1;
    expectError(() => decodeInferRequest(JSON.stringify(make(manyKeys(n)))), 'REQUEST_LIMIT_EXCEEDED', `${where} ${n} keys`, `at most ${REQUEST_LIMITS.maxParameters}`);
    expect(decodeInferRequest(JSON.stringify(make(manyKeys(REQUEST_LIMITS.maxParameters))))).toBeDefined();
  });

  it('refuses a shape with too many dimensions', () => {
    const shape = new Array<number>(REQUEST_LIMITS.maxDims + 1).fill(1);
    expectError(() => decodeInferRequest(JSON.stringify({ inputs: [input('x', { shape })] })), 'REQUEST_LIMIT_EXCEEDED', `inputs[0].shape has ${REQUEST_LIMITS.maxDims + 1} dimensions`);
    const ok = new Array<number>(REQUEST_LIMITS.maxDims).fill(1);
    expect(decodeInferRequest(JSON.stringify({ inputs: [input('x', { shape: ok })] })).inputs[0]!.shape).toEqual(ok);
  });

  it('refuses tensor and output names over the length limit', () => {
    const long = 'n'.repeat(REQUEST_LIMITS.maxNameLength + 1);
    expectError(() => decodeInferRequest(JSON.stringify({ inputs: [input(long)] })), 'REQUEST_LIMIT_EXCEEDED', `inputs[0].name has ${long.length} characters`);
    expectError(() => decodeInferRequest(JSON.stringify({ inputs: [input('x')], outputs: [{ name: long }] })), 'REQUEST_LIMIT_EXCEEDED', `outputs[0].name has ${long.length} characters`);
  });

  it('applies the same limits to the header of a binary extension body', () => {
    const { body, headerLength } = encodeInferRequestBinary({
      inputs: Array.from({ length: REQUEST_LIMITS.maxInputs + 1 }, (_, i) => ({ name: `x${i}`, datatype: 'FP32' as const, shape: [1], data: new Float32Array(1) })),
    });
    expectError(() => decodeInferRequestBinary(body, headerLength), 'REQUEST_LIMIT_EXCEEDED', `request has ${REQUEST_LIMITS.maxInputs + 1} inputs`);
  });

  it('reports a response over a limit as MALFORMED_RESPONSE (client side)', () => {
    const outputs = Array.from({ length: REQUEST_LIMITS.maxOutputs + 1 }, (_, i) => input(`y${i}`));
    expectError(() => decodeInferResponse(JSON.stringify({ model_name: 'm', outputs })), 'MALFORMED_RESPONSE', 'response has');
  });
});

describe('BYTES elements', () => {
  const max = REQUEST_LIMITS.maxBytesElements;
  const strings = (name: string, n: number) => ({ name, shape: [n], datatype: 'BYTES', data: new Array<string>(n).fill('') });

  it('refuses more than the limit in one input from its shape, before making an array per element (1M empty strings took 3.6 s and 380 MB)', () => {
    const n = 1_000_000;
    const text = `{"inputs":[{"name":"s","shape":[${n}],"datatype":"BYTES","data":[${new Array(n).fill('""').join(',')}]}]}`;
    expectError(() => decodeInferRequest(text), 'REQUEST_LIMIT_EXCEEDED', `input 's' has ${n} BYTES elements; at most ${max}`);
  });

  it('counts over all inputs of a request, JSON or binary', () => {
    expect(decodeInferRequest(JSON.stringify({ inputs: [strings('a', max / 2), strings('b', max / 2)] })).inputs).toHaveLength(2);
    expectError(() => decodeInferRequest(JSON.stringify({ inputs: [strings('a', max / 2), strings('b', max / 2 + 1)] })), 'REQUEST_LIMIT_EXCEEDED', `the request up to input 'b' has ${max + 1} BYTES elements`);
    const empty = (name: string, n: number) => ({ name, datatype: 'BYTES' as const, shape: [n], data: Array.from({ length: n }, () => new Uint8Array(0)) });
    const { body, headerLength } = encodeInferRequestBinary({ inputs: [empty('a', 1), empty('b', max)] });
    expectError(() => decodeInferRequestBinary(body, headerLength), 'REQUEST_LIMIT_EXCEEDED', `the request up to input 'b' has ${max + 1} BYTES elements`);
  });

  it('is counted over gRPC too, raw or typed', () => {
    const raw = new Uint8Array(4 * (max + 1));
    expectError(
      () => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [{ name: 's', datatype: 'BYTES', shape: [String(max + 1)] }], raw_input_contents: [raw] })),
      'REQUEST_LIMIT_EXCEEDED',
      `inputs[0] 's' has ${max + 1} BYTES elements`,
    );
    const typed = { name: 't', datatype: 'BYTES', shape: ['2', String(max / 2)], contents: { bytes_contents: Array.from({ length: max }, () => new Uint8Array(0)) } };
    expect(decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [typed] })).request.inputs[0]!.data).toHaveLength(max);
    expectError(() => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [typed, { ...typed, name: 'u', shape: ['1'] }] })), 'REQUEST_LIMIT_EXCEEDED', `the request up to inputs[1] 'u'`);
  });

  it('does not limit responses (a client reads what its server sends)', () => {
    const outputs = [{ ...strings('s', max + 1) }];
    expect(decodeInferResponse(JSON.stringify({ model_name: 'm', outputs })).outputs[0]!.data).toHaveLength(max + 1);
  });
});

describe('exact JSON numbers', () => {
  it('leaves a digit string too long for any datatype a number, never a bigint (BigInt() of a million digits costs ~0.2 s)', () => {
    const digits = '9'.repeat(100_000);
    const doc = parseJsonExact(`{"a":[${digits}],"b":123456789012345678901234567890}`) as { a: unknown[]; b: unknown };
    expect(doc.a[0]).toBe(Infinity);
    expect(doc.b).toBe(123456789012345678901234567890n);
  });

  it('refuses such a number as an INT64 element, naming it', () => {
    const digits = '9'.repeat(1000);
    expectError(
      () => decodeInferRequest(`{"inputs":[{"name":"x","shape":[2],"datatype":"INT64","data":[18446744073709551617,${digits}]}]}`),
      'INPUT_DATA_MISMATCH',
      "input 'x' (INT64) element 0",
    );
    expectError(() => decodeInferRequest(`{"inputs":[{"name":"x","shape":[2],"datatype":"INT64","data":[1,${digits}]}]}`), 'INPUT_DATA_MISMATCH', "input 'x' (INT64) element 1");
  });
});

describe('gRPC requests', () => {
  const fp32 = (name: string) => ({ name, datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } });

  it('refuses 50k inputs (the H2 reproduction over gRPC) by the count', () => {
    const message = wire({ model_name: 'm', inputs: Array.from({ length: 50_000 }, (_, i) => fp32(`x${i}`)) });
    const e = expectError(() => decodeGrpcInferRequest(message), 'REQUEST_LIMIT_EXCEEDED', 'ModelInferRequest has 50000 inputs', `at most ${REQUEST_LIMITS.maxInputs}`);
    expect(e.code).toBe('INVALID_ARGUMENT');
  });

  it('finds a duplicate among the limit of inputs', () => {
    const inputs = Array.from({ length: REQUEST_LIMITS.maxInputs }, (_, i) => fp32(`x${i}`));
    expect(decodeGrpcInferRequest(wire({ model_name: 'm', inputs })).request.inputs).toHaveLength(REQUEST_LIMITS.maxInputs);
    inputs[100] = fp32('x3');
    expectError(() => decodeGrpcInferRequest(wire({ model_name: 'm', inputs })), 'INPUT_DUPLICATE', "inputs[100].name 'x3' repeats inputs[3].name");
  });

  it('refuses too many outputs, parameters, dimensions and name characters', () => {
    const n = REQUEST_LIMITS.maxParameters + 1;
    const params = Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, { int64_param: String(i) }]));
    expectError(
      () => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [fp32('x')], outputs: Array.from({ length: REQUEST_LIMITS.maxOutputs + 1 }, (_, i) => ({ name: `y${i}` })) })),
      'REQUEST_LIMIT_EXCEEDED',
      `ModelInferRequest has ${REQUEST_LIMITS.maxOutputs + 1} outputs`,
    );
    expectError(() => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [fp32('x')], parameters: params })), 'REQUEST_LIMIT_EXCEEDED', `parameters has ${n} keys`);
    expectError(() => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [{ ...fp32('x'), parameters: params }] })), 'REQUEST_LIMIT_EXCEEDED', `inputs[0].parameters has ${n} keys`);
    const shape = new Array<string>(REQUEST_LIMITS.maxDims + 1).fill('1');
    expectError(() => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [{ ...fp32('x'), shape }] })), 'REQUEST_LIMIT_EXCEEDED', `input 'x''s shape has ${shape.length} dimensions`);
    const long = 'n'.repeat(REQUEST_LIMITS.maxNameLength + 1);
    expectError(() => decodeGrpcInferRequest(wire({ model_name: 'm', inputs: [fp32(long)] })), 'REQUEST_LIMIT_EXCEEDED', `inputs[0].name has ${long.length} characters`);
  });

  it('reports a response over a limit as MALFORMED_RESPONSE', () => {
    const outputs = Array.from({ length: REQUEST_LIMITS.maxOutputs + 1 }, (_, i) => fp32(`y${i}`));
    expectError(() => decodeGrpcInferResponse({ model_name: 'm', outputs }), 'MALFORMED_RESPONSE', 'ModelInferResponse has');
  });
});
