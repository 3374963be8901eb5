import { describe, expect, it } from 'vitest';
import { SibylError } from './errors.ts';
import { MAX_NAME_LENGTH, checkName, nameProblem } from './names.ts';

describe('nameProblem', () => {
  it.each([
    ['iris'],
    ['resnet-50_v1.2'],
    ['a'],
    ['x'.repeat(MAX_NAME_LENGTH)],
    ['модель'],
    ['..a'],
    ['a..b'],
    ['.hidden'],
    ['name with spaces'],
    ['tenant:model'],
  ])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['.', /'\.'/],
    ['..', /'\.\.'/],
    ['../etc', /path separator/],
    ['a/b', /path separator/],
    ['/etc/passwd', /path separator/],
    ['..\\..\\windows', /path separator/],
    ['C:\\x', /path separator/],
    ['a\u0000b', /U\+0000/],
    ['a\nb', /U\+000A/],
    ['a\u007f', /U\+007F/],
    ['a\u0085', /U\+0085/],
    ['x'.repeat(MAX_NAME_LENGTH + 1), /longer than 1024 characters/],
    [42, /expected a string/],
    [null, /null/],
    [undefined, /undefined/],
  ])('refuses %j', (name, why) => {
    expect(nameProblem(name)).toMatch(why);
  });
});

describe('checkName', () => {
  it('returns an allowed name', () => {
    expect(checkName('iris', 'model')).toBe('iris');
  });

  it('throws NAME_INVALID (400) naming the kind, the place and the rule', () => {
    let thrown: unknown;
    try {
      checkName('../../etc', 'model', 'the path');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SibylError);
    const err = thrown as SibylError;
    expect(err.reason).toBe('NAME_INVALID');
    expect(err.httpStatus).toBe(400);
    expect(err.message).toContain('the model name "../../etc" (the path) contains \'/\'');
    expect(err.message).toContain('1 to 1024 characters');
  });

  it('shortens an overlong name in the message', () => {
    expect(() => checkName('y'.repeat(5000), 'endpoint')).toThrow(/"y{80}…" is longer than 1024/);
  });
});
