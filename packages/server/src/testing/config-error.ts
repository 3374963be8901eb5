// For unit tests of the config schemas: the message of the ConfigError a compile throws.
import { expect } from 'vitest';
import { ConfigError } from '../config/validate.ts';

/** Runs `fn`, expects it to throw a ConfigError, and returns its message (every problem, one a line). */
export function configErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}
