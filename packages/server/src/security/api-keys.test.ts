import { describe, expect, it } from 'vitest';
import { ApiKeys, hashApiKey, newApiKey } from './api-keys.ts';

const KEY = 'sibyl_test-key-for-the-ci-bot-0123456789';

describe('API keys', () => {
  const keys = new ApiKeys([
    { name: 'ci-bot', sha256: hashApiKey(KEY), scopes: ['infer:*'] },
    { name: 'ops', sha256: hashApiKey('sibyl_ops-key'), scopes: ['admin'] },
  ]);

  it('a configured key is its principal, with its scopes', () => {
    expect(keys.verify(KEY)).toEqual({ id: 'ci-bot', scopes: ['infer:*'] });
    expect(keys.verify('sibyl_ops-key')).toEqual({ id: 'ops', scopes: ['admin'] });
  });

  it('a wrong, empty or near key is no one', () => {
    expect(keys.verify('sibyl_wrong')).toBeUndefined();
    expect(keys.verify('')).toBeUndefined();
    expect(keys.verify(`${KEY} `)).toBeUndefined();
    expect(keys.verify(KEY.toUpperCase())).toBeUndefined();
  });

  it('answers the same principal again from its cache (and the cache never admits a wrong key)', () => {
    const first = keys.verify(KEY);
    expect(keys.verify(KEY)).toBe(first);
    expect(keys.verify('sibyl_wrong')).toBeUndefined();
  });

  it('hashes as hex SHA-256, and makes long random keys', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const key = newApiKey(() => Buffer.alloc(32, 7));
    expect(key).toBe(`sibyl_${Buffer.alloc(32, 7).toString('base64url')}`);
    expect(newApiKey()).not.toBe(newApiKey());
  });
});
