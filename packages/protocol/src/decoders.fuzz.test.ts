// Property-based fuzzing (fast-check) of every request decoder of the protocol: V2 JSON, the
// binary tensor extension, raw binary, gRPC messages and their wire-size check. The property:
// whatever the input, a decoder either returns a request within the limits or throws a
// SibylError — never a TypeError, a RangeError (an allocation too large, a stack overflow) or
// anything else that would become a 500 — and never takes long. Inputs are mutations of valid
// requests (so the fuzzer gets past the first checks) and plain garbage. Runs are kept small
// (a few hundred each); the live fuzz run (bench/fuzz/run.ts) sends far more.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeInferRequestBinary, decodeRawInferRequest } from './binary-codec.ts';
import { DATATYPES } from './datatypes.ts';
import { SibylError } from './errors.ts';
import { decodeGrpcInferRequest, type GrpcModelInferRequest } from './grpc-codec.ts';
import { checkGrpcInferRequestWire } from './grpc-wire-limits.ts';
import type { InferRequest } from './infer.ts';
import { decodeInferRequest } from './json-codec.ts';
import { REQUEST_LIMITS } from './request-limits.ts';

/** SIBYL_FUZZ_RUNS raises the runs for a longer local search. */
const RUNS = { numRuns: Number(process.env.SIBYL_FUZZ_RUNS ?? 400) };
/** Each decode must finish well within this (ms); a hang fails the property instead of the suite. */
const PER_CASE_MS = 500;

/** Runs `decode`; fails the property on anything but a SibylError, a slow decode or a request over the limits. */
function onlySibylErrors(decode: () => InferRequest | unknown): boolean {
  const started = performance.now();
  let result: unknown;
  let thrown: { error: unknown } | undefined;
  try {
    result = decode();
  } catch (error) {
    thrown = { error };
  }
  const ms = performance.now() - started;
  if (ms > PER_CASE_MS) throw new Error(`took ${ms.toFixed(0)} ms`);
  if (thrown !== undefined) {
    const err = thrown.error as Error | undefined;
    if (!(err instanceof SibylError)) throw new Error(`threw ${err?.constructor?.name}: ${err?.message}`, { cause: err });
    return true;
  }
  const request = result as InferRequest;
  if (Array.isArray(request?.inputs)) {
    let elements = 0;
    for (const t of request.inputs) elements += t.shape.reduce((a, b) => a * b, 1);
    expect(elements).toBeLessThanOrEqual(REQUEST_LIMITS.maxRequestElements);
  }
  return true;
}

const datatype = fc.oneof(fc.constantFrom(...DATATYPES), fc.string({ maxLength: 8 }));
const dim = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(-1, 1e9, 2 ** 53, 0.5, Number.NaN), fc.anything());
const shape = fc.oneof(fc.array(dim, { maxLength: 5 }), fc.anything());
const element = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 6 }), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.bigInt().map(String));
const data = fc.oneof(fc.array(element, { maxLength: 12 }), fc.array(fc.array(element, { maxLength: 4 }), { maxLength: 4 }), fc.anything());
const parameters = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.oneof(fc.constantFrom('binary_data_size', 'binary_data', 'binary_data_output', 'classification', 'timeout', 'sibyl_variant'), fc.string({ maxLength: 6 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.anything(),
);
const tensor = fc.record({ name: fc.oneof(fc.constantFrom('x', 'y', ''), fc.string({ maxLength: 8 }), fc.anything()), datatype, shape, data, parameters }, { requiredKeys: [] });
const requestDocument = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 10 }), fc.anything()),
    inputs: fc.oneof(fc.array(tensor, { maxLength: 4 }), fc.anything()),
    outputs: fc.oneof(fc.array(fc.record({ name: fc.anything(), parameters }, { requiredKeys: [] }), { maxLength: 3 }), fc.anything()),
    parameters,
  },
  { requiredKeys: [] },
);

/** A JSON text: a mutated request, or arbitrary JSON, or arbitrary text. */
const jsonText = fc.oneof(
  { weight: 6, arbitrary: requestDocument.map((d) => JSON.stringify(d) ?? 'null') },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => '{"inputs":' + '['.repeat(n) + ']'.repeat(n) + '}') },
);

describe('fuzz: V2 JSON requests (decodeInferRequest)', () => {
  it('throws only SibylError, for strings and for UTF-8 bytes', () => {
    fc.assert(
      fc.property(jsonText, fc.boolean(), (text, asBytes) => onlySibylErrors(() => decodeInferRequest(asBytes ? new TextEncoder().encode(text) : text, undefined, { allowNoInputs: text.length % 2 === 0 }))),
      RUNS,
    );
  });

  it('throws only SibylError for arbitrary bytes (not UTF-8, truncated)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlySibylErrors(() => decodeInferRequest(bytes))), RUNS);
  });
});

describe('fuzz: the binary tensor extension (decodeInferRequestBinary, decodeRawInferRequest)', () => {
  const binaryTensor = fc.record({
    name: fc.constantFrom('x', 'y'),
    datatype,
    shape,
    parameters: fc.record({ binary_data_size: fc.oneof(fc.integer({ min: -4, max: 64 }), fc.constantFrom(2 ** 31, 2 ** 53, 1.5), fc.anything()) }),
  });
  const body = fc.tuple(fc.array(binaryTensor, { minLength: 1, maxLength: 3 }), fc.uint8Array({ maxLength: 128 }), fc.integer({ min: -8, max: 8 }));

  it('throws only SibylError for mutated headers, tails and header lengths', () => {
    fc.assert(
      fc.property(body, ([inputs, tail, skew]) => {
        const header = new TextEncoder().encode(JSON.stringify({ inputs }));
        const whole = new Uint8Array(header.length + tail.length);
        whole.set(header);
        whole.set(tail, header.length);
        return onlySibylErrors(() => decodeInferRequestBinary(whole, Math.max(0, header.length + skew)));
      }),
      RUNS,
    );
  });

  it('throws only SibylError for arbitrary bytes and header lengths', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -10, max: 400 }), (bytes, n) => onlySibylErrors(() => decodeInferRequestBinary(bytes, n))), RUNS);
  });

  it('raw binary: throws only SibylError for any body against any input metadata', () => {
    const metadata = fc.record({ name: fc.constant('x'), datatype: fc.constantFrom(...DATATYPES), shape: fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 4 }) });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), metadata, fc.boolean(), (bytes, input, batched) => onlySibylErrors(() => decodeRawInferRequest(bytes, input, { batched }))), RUNS);
  });
});

describe('fuzz: gRPC ModelInferRequest (decodeGrpcInferRequest, checkGrpcInferRequestWire)', () => {
  const int64 = fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constantFrom('3', '-1', '1000000000', 'x', '9007199254740993'), fc.anything());
  const contents = fc.record(
    {
      bool_contents: fc.array(fc.oneof(fc.boolean(), fc.anything()), { maxLength: 8 }),
      int_contents: fc.array(fc.oneof(fc.integer(), fc.anything()), { maxLength: 8 }),
      int64_contents: fc.array(int64, { maxLength: 8 }),
      uint_contents: fc.array(fc.integer(), { maxLength: 8 }),
      uint64_contents: fc.array(int64, { maxLength: 8 }),
      fp32_contents: fc.array(fc.oneof(fc.double(), fc.anything()), { maxLength: 8 }),
      fp64_contents: fc.array(fc.double(), { maxLength: 8 }),
      bytes_contents: fc.array(fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.anything()), { maxLength: 8 }),
    },
    { requiredKeys: [] },
  );
  const grpcParameter = fc.oneof(
    fc.record({ bool_param: fc.boolean() }),
    fc.record({ int64_param: int64 }),
    fc.record({ string_param: fc.string({ maxLength: 6 }) }),
    fc.record({ double_param: fc.double() }),
    fc.record({ uint64_param: int64 }),
    fc.anything(),
  );
  const grpcParameters = fc.oneof(fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 6 }), grpcParameter, { maxKeys: 3 }));
  const grpcTensor = fc.record({ name: fc.oneof(fc.constantFrom('x', 'y'), fc.string({ maxLength: 4 })), datatype, shape: fc.array(int64, { maxLength: 4 }), parameters: grpcParameters, contents }, { requiredKeys: [] });
  const message: fc.Arbitrary<GrpcModelInferRequest> = fc.record(
    {
      model_name: fc.oneof(fc.constantFrom('m', ''), fc.string({ maxLength: 6 })),
      model_version: fc.string({ maxLength: 3 }),
      id: fc.string({ maxLength: 8 }),
      parameters: grpcParameters,
      inputs: fc.array(grpcTensor, { maxLength: 3 }),
      outputs: fc.array(fc.record({ name: fc.string({ maxLength: 3 }), parameters: grpcParameters }, { requiredKeys: [] }), { maxLength: 2 }),
      raw_input_contents: fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 3 }),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<GrpcModelInferRequest>;

  it('decodeGrpcInferRequest throws only SibylError for mutated messages', () => {
    fc.assert(fc.property(message, fc.boolean(), (m, allowNoInputs) => onlySibylErrors(() => decodeGrpcInferRequest(m, { allowNoInputs: () => allowNoInputs }).request)), RUNS);
  });

  it('checkGrpcInferRequestWire throws only SibylError for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => onlySibylErrors(() => checkGrpcInferRequestWire(bytes))), RUNS);
  });

  it('the properties can fail: a TypeError is caught as a failure', () => {
    expect(() => onlySibylErrors(() => (undefined as unknown as { x: number }).x)).toThrow(/threw TypeError/);
    expect(onlySibylErrors(() => decodeInferRequest('nope'))).toBe(true);
  });
});
