// Assertions on SibylErrors shared by the protocol's tests.
import { expect } from 'vitest';
import { SibylError, type ErrorReason } from '../errors.ts';

/** The SibylError `fn` throws; fails the test if it throws nothing or something else. */
export function caught(fn: () => unknown): SibylError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SibylError) return e;
    throw e;
  }
  throw new Error('expected a SibylError');
}

/** Asserts `fn` throws a SibylError with `reason` whose message contains every fragment. */
export function expectError(fn: () => unknown, reason: ErrorReason, ...fragments: string[]): SibylError {
  const e = caught(fn);
  expect(e.reason, e.message).toBe(reason);
  for (const f of fragments) expect(e.message).toContain(f);
  return e;
}
