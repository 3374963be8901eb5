import { describe, expect, it } from 'vitest';
import { withTimeoutParameter } from './deadline-parameter.ts';
import type { InferRequest, Parameters } from './infer.ts';

const request = (parameters?: Parameters): InferRequest => ({ inputs: [], ...(parameters === undefined ? {} : { parameters }) });

describe('withTimeoutParameter', () => {
  it.each<[string, Parameters | undefined, number, unknown]>([
    ['no timeout: the remaining time in µs', undefined, 250, 250_000],
    ['keeps other parameters', { priority: 1 }, 1.5, 1500],
    ['an earlier own timeout wins', { timeout: 1000 }, 5, 1000],
    ['a later own timeout gives way', { timeout: 9_000_000 }, 5, 5000],
    ['0 (no timeout) gives way', { timeout: 0 }, 5, 5000],
    ['a bigint own timeout is compared too', { timeout: 1000n }, 5, 1000n],
    ['an invalid own timeout is left for the server to refuse', { timeout: 'soon' }, 5, 'soon'],
    ['at least 1 µs', undefined, 0.0001, 1],
  ])('%s', (_name, parameters, remainingMs, timeout) => {
    const original = request(parameters);
    const snapshot = JSON.stringify(original, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(withTimeoutParameter(original, remainingMs).parameters?.timeout).toEqual(timeout);
    expect(JSON.stringify(original, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(snapshot);
  });
});
