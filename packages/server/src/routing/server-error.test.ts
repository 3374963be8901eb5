// The one classification of errors as the target's fault or the caller's, which breakers, canary
// analysis and arm statistics share: a model failing on one request's input is the caller's.
import { describe, expect, it } from 'vitest';
import { SibylError, type ErrorReason } from '@sibyl/protocol';
import { isServerError } from './target.ts';

describe('isServerError', () => {
  it.each<[ErrorReason, boolean]>([
    ['INPUT_REJECTED_BY_MODEL', false],
    ['INPUT_DATA_MISMATCH', false],
    ['RUNTIME_FAILED', true],
    ['INSTANCE_CRASHED', true],
    ['DEADLINE_EXCEEDED', true],
    ['QUEUE_FULL', true],
    ['MODEL_NOT_READY', true],
    // The endpoint's configuration named the target, not the caller: a missing one is the server's.
    ['MODEL_NOT_FOUND', true],
    ['VERSION_NOT_FOUND', true],
    ['LABEL_NOT_FOUND', true],
    ['MODEL_LOAD_FAILED', true],
    ['REQUEST_CANCELLED', false],
    ['NOT_SUPPORTED', false],
  ])('%s: %s', (reason, server) => {
    expect(isServerError(new SibylError(reason, 'x'))).toBe(server);
  });

  it('an error that is not a SibylError is the server\'s', () => {
    expect(isServerError(new Error('boom'))).toBe(true);
  });
});
