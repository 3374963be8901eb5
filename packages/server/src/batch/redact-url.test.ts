import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact-url.ts';

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://u:secret@db:5432/x')).toBe('postgres://u:***@db:5432/x');
    expect(redactUrl('redis://:secret@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
  it('never echoes an unparsable URL', () => {
    expect(redactUrl('not a url :secret@')).toBe('(an invalid URL)');
  });
});
