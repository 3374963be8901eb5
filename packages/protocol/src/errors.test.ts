import { describe, expect, it } from 'vitest';
import {
  CODE_CLASS,
  ERROR_CODES,
  REASONS,
  SibylError,
  classOf,
  codeOfHttpStatus,
  faultOf,
  isInputFault,
  isRetriable,
  isServerFault,
  isUnexpectedServerFault,
  reasonOfHttpStatus,
  type ErrorCode,
  type ErrorReason,
} from './errors.ts';

describe('the error classification table', () => {
  // code → [fault, retriable, subject]: the one place this is written down besides CODE_CLASS,
  // so a change to the table is a deliberate change to this test too.
  const codes: [ErrorCode, 'caller' | 'server', boolean, 'input' | 'target' | undefined][] = [
    ['CANCELLED', 'caller', false, undefined],
    ['UNKNOWN', 'server', false, undefined],
    ['INVALID_ARGUMENT', 'caller', false, 'input'],
    ['DEADLINE_EXCEEDED', 'server', false, undefined],
    ['NOT_FOUND', 'caller', false, undefined],
    ['ALREADY_EXISTS', 'caller', false, undefined],
    ['PERMISSION_DENIED', 'caller', false, undefined],
    ['RESOURCE_EXHAUSTED', 'server', true, undefined],
    ['FAILED_PRECONDITION', 'caller', false, undefined],
    ['ABORTED', 'caller', false, undefined],
    ['OUT_OF_RANGE', 'caller', false, 'input'],
    ['UNIMPLEMENTED', 'caller', false, undefined],
    ['INTERNAL', 'server', false, undefined],
    ['UNAVAILABLE', 'server', true, undefined],
    ['UNAUTHENTICATED', 'caller', false, undefined],
  ];

  it('classifies every code', () => {
    expect(codes.map(([c]) => c).sort()).toEqual([...ERROR_CODES].sort());
    for (const [code, fault, retriable, subject] of codes) {
      expect(classOf(code), code).toEqual(subject === undefined ? { fault, retriable } : { fault, retriable, subject });
      expect(CODE_CLASS[code].fault).toBe(fault);
    }
  });

  it.each<[ErrorReason, 'caller' | 'server', boolean, 'input' | 'target' | undefined]>([
    // The model failed on this input alone while it answers others: the caller's, not retriable.
    ['INPUT_REJECTED_BY_MODEL', 'caller', false, 'input'],
    ['INPUT_SHAPE_MISMATCH', 'caller', false, 'input'],
    // Passing conditions of the server: retried by clients.
    ['QUEUE_FULL', 'server', true, undefined],
    ['RESIDENCY_EXHAUSTED', 'server', true, undefined],
    ['BODY_BUDGET_EXHAUSTED', 'server', true, undefined],
    ['MODEL_NOT_READY', 'server', true, undefined],
    ['SERVER_DRAINING', 'server', true, undefined],
    ['PREDICTION_STORE_UNAVAILABLE', 'server', true, undefined],
    // RESOURCE_EXHAUSTED that the caller caused: refused again if sent again.
    ['BODY_TOO_LARGE', 'caller', false, undefined],
    ['HEADERS_TOO_LARGE', 'caller', false, undefined],
    // The deadline passed: the server's slowness, not retried (the caller's time is spent).
    ['DEADLINE_EXCEEDED', 'server', false, undefined],
    // The client did not send in time: its doing, and the server ran nothing.
    ['REQUEST_TIMEOUT', 'caller', true, undefined],
    // Unknown names: the caller's, about the target.
    ['MODEL_NOT_FOUND', 'caller', false, 'target'],
    ['VERSION_NOT_FOUND', 'caller', false, 'target'],
    ['LABEL_NOT_FOUND', 'caller', false, 'target'],
    ['PREDICTION_NOT_FOUND', 'caller', false, undefined],
    ['ROUTE_NOT_FOUND', 'caller', false, undefined],
    // FAILED_PRECONDITION is the caller's, but a broken model is the server's.
    ['MODEL_LOAD_FAILED', 'server', false, undefined],
    ['ROLLBACK_UNAVAILABLE', 'caller', false, undefined],
    ['MODEL_CONTROL_DISABLED', 'caller', false, undefined],
    ['BATCH_CHUNK_FAILED', 'server', false, undefined],
    ['RUNTIME_FAILED', 'server', false, undefined],
    ['INSTANCE_CRASHED', 'server', false, undefined],
    ['REQUEST_CANCELLED', 'caller', false, undefined],
    ['NOT_SUPPORTED', 'caller', false, undefined],
  ])('%s: %s fault, retriable %s, subject %s', (reason, fault, retriable, subject) => {
    const code = REASONS[reason].code;
    expect(faultOf(code, reason)).toBe(fault);
    expect(isRetriable(code, reason)).toBe(retriable);
    expect(classOf(code, reason).subject).toBe(subject);
    expect(isServerFault(new SibylError(reason, 'x'))).toBe(fault === 'server');
  });

  it('classifies by code alone when an error has no reason (other servers send none)', () => {
    expect(isRetriable('RESOURCE_EXHAUSTED')).toBe(true);
    expect(isServerFault({ code: 'RESOURCE_EXHAUSTED', reason: undefined })).toBe(true);
    expect(isServerFault({ code: 'NOT_FOUND', reason: 'NOT_A_REASON' })).toBe(false);
  });

  it('counts anything unclassified as the server’s fault, never as the input’s', () => {
    for (const err of [new TypeError('bug'), 'text', null, undefined, { code: 'NOPE' }]) {
      expect(isServerFault(err)).toBe(true);
      expect(isInputFault(err)).toBe(false);
      expect(isUnexpectedServerFault(err)).toBe(true);
    }
  });

  it('makes an unknown target the server’s fault only when the server chose the target', () => {
    for (const reason of ['MODEL_NOT_FOUND', 'VERSION_NOT_FOUND', 'LABEL_NOT_FOUND'] as const) {
      expect(isServerFault(new SibylError(reason, 'x'))).toBe(false);
      expect(isServerFault(new SibylError(reason, 'x'), { serverChoseTarget: true })).toBe(true);
    }
    // The caller's own mistakes stay the caller's wherever the target came from.
    for (const reason of ['INPUT_SHAPE_MISMATCH', 'PREDICTION_NOT_FOUND', 'REQUEST_CANCELLED', 'NOT_SUPPORTED'] as const) {
      expect(isServerFault(new SibylError(reason, 'x'), { serverChoseTarget: true })).toBe(false);
    }
  });

  it('blames the input for INVALID_ARGUMENT and OUT_OF_RANGE only', () => {
    const input = ERROR_CODES.filter((code) => isInputFault({ code }));
    expect(input).toEqual(['INVALID_ARGUMENT', 'OUT_OF_RANGE']);
    expect(isInputFault(new SibylError('RUNTIME_FAILED', 'x'))).toBe(false);
  });

  it('calls INTERNAL and UNKNOWN unexpected, and the server’s expected conditions not', () => {
    expect(ERROR_CODES.filter((code) => isUnexpectedServerFault({ code }))).toEqual(['UNKNOWN', 'INTERNAL']);
    for (const reason of ['MODEL_LOAD_FAILED', 'QUEUE_FULL', 'DEADLINE_EXCEEDED', 'MODEL_NOT_READY', 'INPUT_REJECTED_BY_MODEL'] as const) {
      expect(isUnexpectedServerFault(new SibylError(reason, 'x')), reason).toBe(false);
    }
  });

  it('has a caller-fault reason retriable only where the server ran nothing', () => {
    for (const reason of Object.keys(REASONS) as ErrorReason[]) {
      const c = classOf(REASONS[reason].code, reason);
      // A receive timeout ran nothing; a rate-limited request was refused before it ran.
      if (c.fault === 'caller' && c.retriable) expect(['REQUEST_TIMEOUT', 'RATE_LIMITED']).toContain(reason);
    }
  });
});

describe('an HTTP status without a body (another server, a proxy)', () => {
  it.each<[number, ErrorCode, ErrorReason | undefined]>([
    [413, 'RESOURCE_EXHAUSTED', 'BODY_TOO_LARGE'],
    [431, 'RESOURCE_EXHAUSTED', 'HEADERS_TOO_LARGE'],
    [408, 'DEADLINE_EXCEEDED', 'REQUEST_TIMEOUT'],
    [414, 'INVALID_ARGUMENT', 'PATH_TOO_LONG'],
    [415, 'INVALID_ARGUMENT', 'UNSUPPORTED_CONTENT_ENCODING'],
    [429, 'RESOURCE_EXHAUSTED', 'RATE_LIMITED'],
    [421, 'PERMISSION_DENIED', 'HOST_REFUSED'],
    [503, 'UNAVAILABLE', undefined],
    [404, 'NOT_FOUND', undefined],
    [400, 'INVALID_ARGUMENT', undefined],
    [418, 'INVALID_ARGUMENT', undefined],
    [502, 'INTERNAL', undefined],
  ])('%i carries code %s and names reason %s', (status, code, reason) => {
    expect(codeOfHttpStatus(status)).toBe(code);
    expect(reasonOfHttpStatus(status)).toBe(reason);
  });

  it('classifies a bare 413 as the caller\'s, not retriable, as the server\'s BODY_TOO_LARGE is', () => {
    expect(classOf(codeOfHttpStatus(413), reasonOfHttpStatus(413))).toEqual({ fault: 'caller', retriable: false });
  });
});
