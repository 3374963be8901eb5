import { describe, expect, it } from 'vitest';
import { base64Problem, decodeBase64 } from './base64.ts';

const bytes = Uint8Array.from([0xff, 0xfe, 0x00, 0x3e, 0x3f, 0xfb, 0xef]);

describe('base64Problem', () => {
  it.each([
    ['standard, padded', Buffer.from(bytes).toString('base64')],
    ['standard, unpadded', Buffer.from(bytes).toString('base64').replace(/=+$/, '')],
    ['URL-safe, unpadded', Buffer.from(bytes).toString('base64url')],
    ['URL-safe, padded', Buffer.from(bytes).toString('base64url') + '=='],
    ['empty', ''],
  ])('accepts %s and decodes it exactly', (_name, text) => {
    expect(base64Problem(text)).toBeUndefined();
    expect(decodeBase64(text)).toEqual(text === '' ? new Uint8Array(0) : bytes);
  });

  it.each([
    ['a character outside both alphabets', 'aGV%sbG8=', "the character '%' at position 3"],
    ['whitespace', 'aGVs bG8=', "the character ' ' at position 4"],
    ['a non-ASCII character', 'aGVsé', 'the character U+00E9 at position 4'],
    ['padding in the middle', 'aG==bG8=', "'=' before the end at position 2"],
    ['both alphabets in one string', '+/-_', "the character '-' at position 2 mixes the URL-safe alphabet with the standard one"],
    ['a length no bytes encode', 'aGVsb', '5 characters of data'],
    ['padding that does not complete a quantum', 'aGVsbG8==', "2 '=' of padding after 7 characters"],
    ['too much padding', 'aGVsbA===', "'=' before the end at position 6"],
  ])('refuses %s', (_name, text, problem) => {
    expect(base64Problem(text)).toContain(problem);
  });
});
