// Assertions for the conformance table, with no test framework: the same cases run under vitest
// in Node and in a bare page in Chromium. Each throws an Error saying what differed.
import type { ClientError } from '@sibyl/client';

const show = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) && !(x instanceof DataView) ? Array.from(x as unknown as ArrayLike<unknown>) : x));

export function equal(actual: unknown, expected: unknown, what: string): void {
  if (show(actual) !== show(expected)) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function truthy(value: unknown, what: string): void {
  if (!value) throw new Error(`${what}: expected true, got ${show(value)}`);
}

export function close(actual: ArrayLike<number>, expected: readonly number[], what: string, tolerance = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`${what}: expected ${expected.length} values, got ${actual.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance * Math.max(1, Math.abs(expected[i]!)))) throw new Error(`${what}[${i}]: expected ${expected[i]}, got ${actual[i]}`);
  }
}

/** Awaits `promise`, which must fail with a ClientError of `code` (and `reason`, when given; null: none). */
export async function fails(promise: Promise<unknown>, code: string, reason: string | null | undefined, what: string): Promise<ClientError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (e) {
    const err = e as ClientError;
    if (err?.name !== 'ClientError') throw new Error(`${what}: expected a ClientError, got ${String(e)}`, { cause: e });
    if (err.code !== code) throw new Error(`${what}: expected code ${code}, got ${err.code} (${err.reason ?? 'no reason'}): ${err.message}`, { cause: e });
    if (reason !== undefined && (err.reason ?? null) !== reason) throw new Error(`${what}: expected reason ${reason}, got ${err.reason ?? 'none'}: ${err.message}`, { cause: e });
    if (typeof err.message !== 'string' || err.message === '') throw new Error(`${what}: the error has no message`, { cause: e });
    return err;
  }
  throw new Error(`${what}: expected it to fail with ${code}, but it answered ${show(result).slice(0, 200)}`);
}
