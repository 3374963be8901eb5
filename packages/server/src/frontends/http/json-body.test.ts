import { describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { MAX_JSON_DEPTH, depthExceededAt, parseJsonLimited } from './json-body.ts';

const nested = (depth: number, open = '[', close = ']'): string => open.repeat(depth) + close.repeat(depth);

describe('depthExceededAt', () => {
  it.each([
    ['{}', 1, -1],
    ['[[]]', 1, 1],
    ['[[]]', 2, -1],
    ['{"a":{"b":[1]}}', 3, -1],
    ['{"a":{"b":[1]}}', 2, 10],
    // brackets inside strings, and escaped quotes, do not count
    ['["[[[[", "\\"[[[["]', 1, -1],
    ['{"k\\\\":[[1]]}', 2, 8],
    ['', 1, -1],
  ])('%j with at most %i → %i', (text, max, at) => {
    expect(depthExceededAt(text, max)).toBe(at);
    expect(depthExceededAt(Buffer.from(text), max)).toBe(at);
  });

  it('scans multi-byte UTF-8 without losing its place', () => {
    expect(depthExceededAt(Buffer.from('{"é\\"[":["ü"]}'), 1)).toBe(9);
  });
});

describe('parseJsonLimited', () => {
  it('parses JSON nested up to the limit', () => {
    expect(parseJsonLimited(nested(MAX_JSON_DEPTH), 'body', 'x')).toBeInstanceOf(Array);
  });

  it.each([
    ['arrays', nested(100_000)],
    ['objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
  ])('refuses 100 000-deep %s with JSON_TOO_DEEP naming the limit', (_kind, text) => {
    const err = (() => {
      try {
        parseJsonLimited(Buffer.from(text), 'request body', 'an endpoint configuration');
      } catch (e) {
        return e as SibylError;
      }
    })();
    expect(err).toBeInstanceOf(SibylError);
    expect(err?.reason).toBe('JSON_TOO_DEEP');
    expect(err?.message).toContain(`more than ${MAX_JSON_DEPTH} deep`);
    expect(err?.message).toContain('an endpoint configuration');
  });

  it('refuses text that is not JSON with MALFORMED_REQUEST', () => {
    expect(() => parseJsonLimited('{"a":', 'parameters.config', 'a model config')).toThrow(/parameters.config is not valid JSON.*expected a model config/);
  });
});
