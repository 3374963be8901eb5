// The request id's length is bounded in every codec that reads one (issue 13: the id was echoed,
// logged and kept for feedback whole, whatever its size).
import { describe, expect, it } from 'vitest';
import { expectError } from './__fixtures__/errors.ts';
import { decodeGrpcInferRequest } from './grpc-codec.ts';
import { decodeInferRequest } from './json-codec.ts';
import { decodeInferRequestBinary } from './binary-codec.ts';
import { MAX_REQUEST_ID_LENGTH } from './request-id.ts';

const ok = 'i'.repeat(MAX_REQUEST_ID_LENGTH);
const long = 'i'.repeat(MAX_REQUEST_ID_LENGTH + 1);
const json = (id: string): string => JSON.stringify({ id, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] });
const grpc = (id: string) => ({ model_name: 'm', id, inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } }] });

describe('the request id', () => {
  it('is taken up to 256 characters by the JSON, binary and gRPC codecs', () => {
    expect(MAX_REQUEST_ID_LENGTH).toBe(256);
    expect(decodeInferRequest(json(ok)).id).toBe(ok);
    const header = Buffer.from(json(ok));
    expect(decodeInferRequestBinary(header, header.length).id).toBe(ok);
    expect(decodeGrpcInferRequest(grpc(ok) as never).request.id).toBe(ok);
  });

  it('is refused beyond, naming the limit', () => {
    const message = `has ${MAX_REQUEST_ID_LENGTH + 1} characters; expected at most ${MAX_REQUEST_ID_LENGTH}`;
    expectError(() => decodeInferRequest(json(long)), 'MALFORMED_REQUEST', `request 'id' ${message}`);
    const header = Buffer.from(json(long));
    expectError(() => decodeInferRequestBinary(header, header.length), 'MALFORMED_REQUEST', message);
    expectError(() => decodeGrpcInferRequest(grpc(long) as never), 'MALFORMED_REQUEST', `ModelInferRequest.id ${message}`);
  });
});
