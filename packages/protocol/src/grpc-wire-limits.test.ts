// REQUEST_LIMITS on the wire bytes of a ModelInferRequest, before protobuf decodes them: messages
// are encoded by protobufjs from proto/grpc_service.proto, as a client would send them.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { expectError } from './__fixtures__/errors.ts';
import { sampleTensors } from './__fixtures__/tensors.ts';
import { encodeGrpcInferRequest } from './grpc-codec.ts';
import { checkGrpcInferRequestWire } from './grpc-wire-limits.ts';
import { REQUEST_LIMITS } from './request-limits.ts';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => PROTO_DIR + target.replace(/^.*\//, '');
root.loadSync('grpc_service.proto', { keepCase: true });
const RequestType = root.lookupType('inference.ModelInferRequest');
const bytesOf = (message: object): Uint8Array => RequestType.encode(RequestType.fromObject(message)).finish();

const L = REQUEST_LIMITS;
const fp32 = (name: string, extra: object = {}) => ({ name, datatype: 'FP32', shape: [1], contents: { fp32_contents: [1] }, ...extra });
const params = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, { int64_param: i }]));

describe('checkGrpcInferRequestWire', () => {
  it.each([true, false])('passes every datatype, raw: %s, and requests at each limit', (raw) => {
    const typed = sampleTensors().filter((t) => raw || (t.datatype !== 'FP16' && t.datatype !== 'BF16'));
    expect(() => checkGrpcInferRequestWire(bytesOf(encodeGrpcInferRequest('m', '1', { inputs: typed, parameters: { a: 1 }, outputs: [{ name: 'o', parameters: { b: true } }] }, { raw })))).not.toThrow();
    const atLimits = {
      model_name: 'm',
      parameters: params(L.maxParameters),
      inputs: [
        ...Array.from({ length: L.maxInputs - 3 }, (_, i) => fp32(`x${i}`)),
        fp32('shape', { shape: new Array(L.maxDims).fill(1), parameters: params(L.maxParameters) }),
        { name: 'b', datatype: 'BYTES', shape: [L.maxBytesElements], contents: { bytes_contents: new Array(L.maxBytesElements).fill(new Uint8Array(0)) } },
        { name: 'i', datatype: 'INT64', shape: [L.maxTypedInt64Elements], contents: { int64_contents: new Array(L.maxTypedInt64Elements).fill(1) } },
      ],
      outputs: Array.from({ length: L.maxOutputs }, (_, i) => ({ name: `y${i}`, parameters: i === 0 ? params(L.maxParameters) : undefined })),
    };
    expect(() => checkGrpcInferRequestWire(bytesOf(atLimits))).not.toThrow();
  });

  it.each<[string, object, string]>([
    ['inputs', { inputs: Array.from({ length: L.maxInputs + 1 }, (_, i) => fp32(`x${i}`)) }, `ModelInferRequest has more than ${L.maxInputs} inputs`],
    ['outputs', { inputs: [fp32('x')], outputs: Array.from({ length: L.maxOutputs + 1 }, (_, i) => ({ name: `y${i}` })) }, `ModelInferRequest has more than ${L.maxOutputs} outputs`],
    ['raw contents', { inputs: [fp32('x')], raw_input_contents: new Array(L.maxInputs + 1).fill(new Uint8Array(4)) }, `more than ${L.maxInputs} raw_input_contents entries`],
    ['request parameters', { parameters: params(L.maxParameters + 1), inputs: [fp32('x')] }, `parameters has more than ${L.maxParameters} keys`],
    ['input parameters', { inputs: [fp32('x'), fp32('z', { parameters: params(L.maxParameters + 1) })] }, `inputs[1].parameters has more than ${L.maxParameters} keys`],
    ['output parameters', { inputs: [fp32('x')], outputs: [{ name: 'y', parameters: params(L.maxParameters + 1) }] }, `outputs[0].parameters has more than ${L.maxParameters} keys`],
    ['dimensions', { inputs: [fp32('x', { shape: new Array(L.maxDims + 1).fill(1) })] }, `inputs[0].shape has more than ${L.maxDims} dimensions`],
    [
      'BYTES elements over two inputs',
      { inputs: ['a', 'b'].map((name) => ({ name, datatype: 'BYTES', shape: [L.maxBytesElements / 2 + 1], contents: { bytes_contents: new Array(L.maxBytesElements / 2 + 1).fill(new Uint8Array(0)) } })) },
      `ModelInferRequest (up to inputs[1].contents.bytes_contents) has more than ${L.maxBytesElements} BYTES elements`,
    ],
    [
      'typed 64-bit integers',
      { inputs: [{ name: 'i', datatype: 'UINT64', shape: [L.maxTypedInt64Elements + 1], contents: { uint64_contents: new Array(L.maxTypedInt64Elements + 1).fill(300) } }] },
      `has more than ${L.maxTypedInt64Elements} typed 64-bit integer elements; at most ${L.maxTypedInt64Elements} are accepted`,
    ],
  ])('refuses too many %s, naming the limit', (_name, message, fragment) => {
    const e = expectError(() => checkGrpcInferRequestWire(bytesOf({ model_name: 'm', ...message })), 'REQUEST_LIMIT_EXCEEDED', fragment);
    expect(e.code).toBe('INVALID_ARGUMENT');
  });

  it('tells where large INT64 tensors go', () => {
    const message = { model_name: 'm', inputs: [{ name: 'i', datatype: 'INT64', shape: [L.maxTypedInt64Elements + 1], contents: { int64_contents: new Array(L.maxTypedInt64Elements + 1).fill(-1) } }] };
    expectError(() => checkGrpcInferRequestWire(bytesOf(message)), 'REQUEST_LIMIT_EXCEEDED', 'send large INT64/UINT64 tensors in raw_input_contents');
  });

  it('refuses 2M empty bytes_contents (4 MB; protobuf decoding took 8.5 s and 0.5 GB) without decoding them', () => {
    const n = 2_000_000;
    const entries = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) entries[2 * i] = (8 << 3) | 2; // bytes_contents, length 0
    const message = protobuf.Writer.create().uint32((1 << 3) | 2).string('m').uint32((5 << 3) | 2).fork().uint32((5 << 3) | 2).bytes(entries).ldelim().finish();
    // The contents message was written as one bytes field holding the entries: the same wire bytes.
    expectError(() => checkGrpcInferRequestWire(message), 'REQUEST_LIMIT_EXCEEDED', `more than ${L.maxBytesElements} BYTES elements`);
  });

  it.each([
    ['a truncated length', [0x0a, 0xff]],
    ['a truncated tag', [0x80]],
    ['a length past the end', [0x2a, 0x05, 0x61]],
    ['a group wire type', [0x2b]],
  ])('lets bytes that are not protobuf (%s) through, for the decoder to report', (_name, bytes) => {
    expect(() => checkGrpcInferRequestWire(Uint8Array.from(bytes))).not.toThrow();
  });
});
