// The gRPC codec through real protobuf bytes: messages are built by the codec, serialised and
// parsed by protobufjs from proto/grpc_service.proto, and turned back into objects with the
// options @grpc/proto-loader uses, exactly the path a server and a client take.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { expectError } from './__fixtures__/errors.ts';
import { ownsBuffer, sampleTensors } from './__fixtures__/tensors.ts';
import {
  GRPC_LOADER_OPTIONS,
  decodeGrpcInferRequest,
  decodeGrpcInferResponse,
  encodeGrpcInferRequest,
  encodeGrpcInferResponse,
  parametersFromGrpc,
  parametersToGrpc,
  type GrpcModelInferRequest,
  type GrpcModelInferResponse,
} from './grpc-codec.ts';
import type { InferRequest, InferResponse } from './infer.ts';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => PROTO_DIR + target.replace(/^.*\//, '');
root.loadSync('grpc_service.proto', { keepCase: true });
const RequestType = root.lookupType('inference.ModelInferRequest');
const ResponseType = root.lookupType('inference.ModelInferResponse');

/** Through the wire: object → bytes → object, as grpc-js with proto-loader does. */
function wireRequest(message: GrpcModelInferRequest): GrpcModelInferRequest {
  const bytes = RequestType.encode(RequestType.fromObject(message)).finish();
  return RequestType.toObject(RequestType.decode(bytes), GRPC_LOADER_OPTIONS) as GrpcModelInferRequest;
}
function wireResponse(message: GrpcModelInferResponse): GrpcModelInferResponse {
  const bytes = ResponseType.encode(ResponseType.fromObject(message)).finish();
  return ResponseType.toObject(ResponseType.decode(bytes), GRPC_LOADER_OPTIONS) as GrpcModelInferResponse;
}

const typedOnly = sampleTensors().filter((t) => t.datatype !== 'FP16' && t.datatype !== 'BF16');

describe('gRPC ModelInferRequest', () => {
  it.each([true, false])('round-trips every datatype (raw: %s), with id, parameters and requested outputs', (raw) => {
    const tensors = raw ? sampleTensors() : typedOnly;
    const request: InferRequest = {
      id: 'r-1',
      parameters: { timeout: 5000, big: 9007199254740993n, ratio: 0.5, flag: true, tag: 'x' },
      inputs: tensors,
      outputs: [{ name: 'out', parameters: { classification: 2 } }],
    };
    const message = wireRequest(encodeGrpcInferRequest('m', '3', request, { raw }));
    expect(message.raw_input_contents?.length ?? 0).toBe(raw ? tensors.length : 0);
    const decoded = decodeGrpcInferRequest(message);
    expect(decoded.model).toBe('m');
    expect(decoded.version).toBe('3');
    expect(decoded.raw).toBe(raw);
    expect(decoded.request).toEqual(request);
    for (const t of decoded.request.inputs) expect(ownsBuffer(t.data), t.name).toBe(true);
  });

  it('sends FP16/BF16 raw even when typed contents are asked for, and then every input raw', () => {
    const message = encodeGrpcInferRequest('m', undefined, { inputs: sampleTensors() }, { raw: false });
    expect(message.raw_input_contents).toHaveLength(sampleTensors().length);
    expect(message.inputs!.every((t) => t.contents === undefined)).toBe(true);
  });

  it('puts each datatype in its field of the public proto (INT8 → int_contents, UINT16 → uint_contents, INT64 → int64_contents)', () => {
    const message = encodeGrpcInferRequest('m', '', { inputs: typedOnly }, { raw: false });
    const fields = Object.fromEntries(message.inputs!.map((t) => [t.datatype, Object.keys(t.contents!)]));
    expect(fields).toEqual({
      BOOL: ['bool_contents'],
      UINT8: ['uint_contents'],
      UINT16: ['uint_contents'],
      UINT32: ['uint_contents'],
      UINT64: ['uint64_contents'],
      INT8: ['int_contents'],
      INT16: ['int_contents'],
      INT32: ['int_contents'],
      INT64: ['int64_contents'],
      FP32: ['fp32_contents'],
      FP64: ['fp64_contents'],
      BYTES: ['bytes_contents'],
    });
  });

  const input = (extra: object) => ({ name: 'x', datatype: 'FP32', shape: [1, 2], ...extra });
  it.each<[string, GrpcModelInferRequest, Parameters<typeof expectError>[1], string]>([
    ['no model name', { inputs: [input({ contents: { fp32_contents: [1, 2] } })] }, 'MALFORMED_REQUEST', 'model_name is empty'],
    ['no inputs', { model_name: 'm' }, 'MALFORMED_REQUEST', 'inputs is empty'],
    ['an unknown datatype', { model_name: 'm', inputs: [input({ datatype: 'FLOAT' })] }, 'MALFORMED_REQUEST', 'datatype "FLOAT"'],
    ['a negative dimension', { model_name: 'm', inputs: [input({ shape: [-1, 2] })] }, 'MALFORMED_REQUEST', 'shape [-1,2]'],
    ['no data', { model_name: 'm', inputs: [input({})] }, 'INPUT_DATA_MISMATCH', "input 'x' has no data; expected 2 elements in contents.fp32_contents or raw_input_contents"],
    ['too few elements', { model_name: 'm', inputs: [input({ contents: { fp32_contents: [1] } })] }, 'INPUT_DATA_MISMATCH', 'holding 2 elements, but contents.fp32_contents has 1'],
    ['the wrong contents field', { model_name: 'm', inputs: [input({ contents: { int_contents: [1, 2] } })] }, 'INPUT_DATA_MISMATCH', 'FP32 data goes in contents.fp32_contents'],
    ['an INT8 out of range', { model_name: 'm', inputs: [{ name: 'x', datatype: 'INT8', shape: [1], contents: { int_contents: [300] } }] }, 'INPUT_DATA_MISMATCH', 'element 0 is 300; expected an integer in [-128, 127]'],
    ['typed FP16', { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP16', shape: [1], contents: { uint_contents: [1] } }] }, 'INPUT_DATA_MISMATCH', 'send it in raw_input_contents'],
    ['raw of the wrong size', { model_name: 'm', inputs: [input({})], raw_input_contents: [new Uint8Array(7)] }, 'INPUT_DATA_MISMATCH', 'takes 8 bytes'],
    ['raw not one per input', { model_name: 'm', inputs: [input({}), { ...input({}), name: 'y' }], raw_input_contents: [new Uint8Array(8)] }, 'MALFORMED_REQUEST', 'raw_input_contents has 1 entries but there are 2 inputs'],
    ['raw and contents both', { model_name: 'm', inputs: [input({ contents: { fp32_contents: [1, 2] } })], raw_input_contents: [new Uint8Array(8)] }, 'MALFORMED_REQUEST', 'one way only'],
    ['a duplicate input', { model_name: 'm', inputs: [input({ contents: { fp32_contents: [1, 2] } }), input({ contents: { fp32_contents: [1, 2] } })] }, 'INPUT_DUPLICATE', "'x' repeats inputs[0]"],
    ['a BOOL raw byte of 2', { model_name: 'm', inputs: [{ name: 'b', datatype: 'BOOL', shape: [1] }], raw_input_contents: [new Uint8Array([2])] }, 'INPUT_DATA_MISMATCH', 'expected 0 (false) or 1 (true)'],
    ['an empty parameter', { model_name: 'm', parameters: { p: {} }, inputs: [input({ contents: { fp32_contents: [1, 2] } })] }, 'PARAMETER_INVALID', "parameters['p'] has no value"],
  ])('refuses %s with a message that names it', (_name, message, reason, fragment) => {
    expectError(() => decodeGrpcInferRequest(wireRequest(message)), reason, fragment);
  });
});

describe('gRPC BYTES', () => {
  const elements = [Uint8Array.from([0xff, 0xfe]), new Uint8Array(0), Uint8Array.from([0x00, 0xc3, 0x28])];
  it.each([true, false])('are carried byte for byte, raw: %s, both ways', (raw) => {
    const request: InferRequest = { inputs: [{ name: 'b', datatype: 'BYTES', shape: [3], data: elements }] };
    expect(decodeGrpcInferRequest(wireRequest(encodeGrpcInferRequest('m', '', request, { raw }))).request).toEqual(request);
    const response: InferResponse = { model_name: 'm', model_version: '1', outputs: [{ name: 'b', datatype: 'BYTES', shape: [3], data: elements }] };
    expect(decodeGrpcInferResponse(wireResponse(encodeGrpcInferResponse(response, { raw })))).toEqual(response);
  });
});

describe('gRPC ModelInferResponse', () => {
  const response = (outputs = typedOnly): InferResponse => ({ model_name: 'm', model_version: '2', id: 'q', parameters: { n: 1 }, outputs });

  it.each([true, false])('round-trips every datatype (raw: %s)', (raw) => {
    const outputs = raw ? sampleTensors() : typedOnly;
    const message = wireResponse(encodeGrpcInferResponse(response(outputs), { raw }));
    expect(message.raw_output_contents?.length ?? 0).toBe(raw ? outputs.length : 0);
    expect(decodeGrpcInferResponse(message)).toEqual(response(outputs));
  });

  it('reports a response whose raw contents do not fit as MALFORMED_RESPONSE', () => {
    const message: GrpcModelInferResponse = { model_name: 'm', outputs: [{ name: 'y', datatype: 'FP32', shape: [2] }], raw_output_contents: [new Uint8Array(4)] };
    expectError(() => decodeGrpcInferResponse(wireResponse(message)), 'MALFORMED_RESPONSE', "output 'y'", 'takes 8 bytes');
  });

  it('refuses to encode an output whose data does not match its shape (a server bug: INTERNAL_ERROR)', () => {
    expectError(() => encodeGrpcInferResponse(response([{ name: 'y', datatype: 'FP32', shape: [3], data: new Float32Array(2) }]), { raw: true }), 'INTERNAL_ERROR', "output 'y'");
  });
});

describe('gRPC parameters', () => {
  it('map each value to its oneof field: integers to int64 (uint64 beyond int64), fractions to double', () => {
    expect(parametersToGrpc({ a: true, b: 'x', c: 7, d: 0.25, e: -(2n ** 63n), f: 2n ** 64n - 1n })).toEqual({
      a: { bool_param: true },
      b: { string_param: 'x' },
      c: { int64_param: 7 },
      d: { double_param: 0.25 },
      e: { int64_param: '-9223372036854775808' },
      f: { uint64_param: '18446744073709551615' },
    });
    expect(parametersFromGrpc({ u: { uint64_param: '18446744073709551615' }, s: { int64_param: '12' } }, 'p')).toEqual({ u: 2n ** 64n - 1n, s: 12 });
  });
});
