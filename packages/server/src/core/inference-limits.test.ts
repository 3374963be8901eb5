import { describe, expect, it } from 'vitest';
import type { InferRequest, InferResponse, Tensor } from '@sibyl/protocol';
import { checkInferRequest, checkResponseBytes, type InferenceLimits } from './inference-limits.ts';

const LIMITS: InferenceLimits = { maxTensorElements: 100, maxRequestElements: 150, maxBytesElementBytes: 8, maxResponseBytes: 1024 };
const fp32 = (name: string, shape: number[]): Tensor => ({ name, datatype: 'FP32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const bytes = (name: string, elements: number[]): Tensor => ({ name, datatype: 'BYTES', shape: [elements.length], data: elements.map((n) => new Uint8Array(n)) });
const reasonOf = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as { reason?: string }).reason;
  }
};

describe('checkInferRequest', () => {
  it.each<[string, InferRequest, string | undefined]>([
    ['a tensor at the limit', { inputs: [fp32('x', [10, 10])] }, undefined],
    ['a tensor over the per-tensor limit', { inputs: [fp32('x', [101])] }, 'REQUEST_LIMIT_EXCEEDED'],
    ['tensors over the per-request limit together', { inputs: [fp32('a', [100]), fp32('b', [51])] }, 'REQUEST_LIMIT_EXCEEDED'],
    ['a shape of [1e9, 1e9] (data not consulted)', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1e9, 1e9], data: new Float32Array(0) }] }, 'REQUEST_LIMIT_EXCEEDED'],
    ['BYTES elements at the length limit', { inputs: [bytes('t', [8, 0, 3])] }, undefined],
    ['a BYTES element over the length limit', { inputs: [bytes('t', [1, 9])] }, 'REQUEST_LIMIT_EXCEEDED'],
    ['a reserved request parameter', { inputs: [fp32('x', [1])], parameters: { sibyl_variant: 'candidate' } }, 'PARAMETER_INVALID'],
    ['a reserved input parameter', { inputs: [{ ...fp32('x', [1]), parameters: { sibyl_cache: 'hit' } }] }, 'PARAMETER_INVALID'],
    ['a reserved output parameter', { inputs: [fp32('x', [1])], outputs: [{ name: 'y', parameters: { sibyl_endpoint: 'e' } }] }, 'PARAMETER_INVALID'],
    ['ordinary parameters', { inputs: [fp32('x', [1])], parameters: { timeout: 5, sibylish: 1 }, outputs: [{ name: 'y', parameters: { binary_data: true } }] }, undefined],
  ])('%s → %s', (_what, request, reason) => {
    expect(reasonOf(() => checkInferRequest(request, LIMITS))).toBe(reason);
  });

  it('names the limit and its value', () => {
    expect(() => checkInferRequest({ inputs: [fp32('x', [101])] }, LIMITS)).toThrow(/101 elements; at most 100 elements per tensor are accepted \(limits\.maxTensorElements\)/);
    expect(() => checkInferRequest({ inputs: [bytes('t', [9])] }, LIMITS)).toThrow(/9 bytes; a BYTES element may have at most 8 \(limits\.maxBytesElementBytes\)/);
  });
});

describe('checkResponseBytes', () => {
  const response = (outputs: Tensor[]): InferResponse => ({ model_name: 'm', outputs });
  it.each<[string, InferResponse, string | undefined]>([
    ['an answer at the limit', response([fp32('y', [256])]), undefined],
    ['an answer over the limit', response([fp32('y', [200]), fp32('z', [57])]), 'RESPONSE_TOO_LARGE'],
    ['BYTES counted with their length prefixes', response([bytes('t', [1000, 17])]), 'RESPONSE_TOO_LARGE'],
    ['BYTES within the limit', response([bytes('t', [1000, 16])]), undefined],
  ])('%s → %s', (_what, r, reason) => {
    expect(reasonOf(() => checkResponseBytes(r.model_name, r.outputs, LIMITS))).toBe(reason);
  });

  it('is a 400 naming limits.maxResponseBytes', () => {
    let error: { httpStatus?: number; message?: string } = {};
    try {
      checkResponseBytes('m', [fp32('y', [300])], LIMITS);
    } catch (err) {
      error = err as typeof error;
    }
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain('1200 bytes of output data; at most 1024 are sent (limits.maxResponseBytes)');
  });
});
