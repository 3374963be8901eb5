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
    ['a negative own timeout is left for the server to refuse (not replaced by the deadline)', { timeout: -5 }, 5, -5],
    ['a negative bigint own timeout is left too', { timeout: -(2n ** 60n) }, 5, -(2n ** 60n)],
    ['a fractional own timeout beyond the deadline is left too', { timeout: 9_000_000.5 }, 5, 9_000_000.5],
    ['at least 1 µs', undefined, 0.0001, 1],
  ])('%s', (_name, parameters, remainingMs, timeout) => {
    const original = request(parameters);
    const snapshot = JSON.stringify(original, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(withTimeoutParameter(original, remainingMs).parameters?.timeout).toEqual(timeout);
    expect(JSON.stringify(original, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toBe(snapshot);
  });
});
