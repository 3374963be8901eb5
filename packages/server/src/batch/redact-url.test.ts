import { describe, expect, it } from 'vitest';
import { redactJobSpec, redactUrl, redactUrlsInText } from './redact-url.ts';

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

describe('redactJobSpec', () => {
  it('hides the password of every URL in a spec, wherever it is, and leaves the rest alone', () => {
    const spec = { name: 'j', source: { sql: { postgres: 'postgres://u:pw1@db/x', query: "SELECT 'a:b@c'" } }, store: { postgres: 'postgresql://u:pw2@db/y' }, list: ['mysql://a:pw3@h/d', 'plain', 3, null] };
    expect(redactJobSpec(spec)).toEqual({
      name: 'j',
      source: { sql: { postgres: 'postgres://u:***@db/x', query: "SELECT 'a:b@c'" } },
      store: { postgres: 'postgresql://u:***@db/y' },
      list: ['mysql://a:***@h/d', 'plain', 3, null],
    });
    expect(spec.source.sql.postgres).toBe('postgres://u:pw1@db/x'); // the original is untouched
  });
});

describe('redactUrlsInText', () => {
  it.each([
    ['cannot connect to postgres://u:secret@db:5432/x: refused', 'cannot connect to postgres://u:***@db:5432/x: refused'],
    ['two: redis://:s1@a and amqp://x:s2@b/v', 'two: redis://:***@a and amqp://x:***@b/v'],
    ['no credentials: postgres://u@db/x', 'no credentials: postgres://u@db/x'],
  ])('%s', (text, expected) => {
    expect(redactUrlsInText(text)).toBe(expected);
  });
});
