// The one authenticator with real tokens: RS256/ES256 signed by a test issuer whose JWKS is
// served over HTTP on 127.0.0.1, HS256 with a shared secret, and API keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { JwksServer, signHs256 } from '../testing/jwks-server.ts';
import { ApiKeys, hashApiKey } from './api-keys.ts';
import { createAuthenticator, type Authenticator } from './authenticator.ts';
import { JwtVerifier, VERIFIED_TOKEN_TTL_MS, scopesOf } from './jwt-verifier.ts';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const KEY = 'sibyl_key-of-the-test-suite-0123456789';
const ISS = 'https://issuer.test';
const AUD = 'sibyl';

let issuer: JwksServer;
let auth: Authenticator;
/** The verifier's clock: real time plus what a test skips ahead (verified tokens are trusted for a while). */
let skippedMs = 0;

beforeAll(async () => {
  issuer = await JwksServer.start('RS256');
  const jwt = new JwtVerifier({ jwksUrl: issuer.url, secret: SECRET, issuer: ISS, audience: AUD, clockToleranceSec: 5, scopeClaim: 'scope', jwksCooldownMs: 0, nowMs: () => Date.now() + skippedMs });
  auth = createAuthenticator(new ApiKeys([{ name: 'ci', sha256: hashApiKey(KEY), scopes: ['infer:*'] }]), jwt);
});
afterAll(() => issuer.close());

/** The SibylError reason authenticate() fails with (sync or async). */
async function refusal(credentials: Parameters<Authenticator['authenticate']>[0]): Promise<string> {
  try {
    await auth.authenticate(credentials);
  } catch (err) {
    expect(err).toBeInstanceOf(SibylError);
    // Nothing of the credentials is quoted back.
    for (const value of [credentials.authorization, credentials.apiKey]) if (value !== undefined && value.length > 12) expect((err as Error).message).not.toContain(value.slice(7));
    return (err as SibylError).reason;
  }
  throw new Error('expected a refusal');
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('API keys', () => {
  it('as a bearer credential or x-api-key, answered synchronously', () => {
    expect(auth.authenticate(bearer(KEY))).toEqual({ id: 'ci', scopes: ['infer:*'] });
    expect(auth.authenticate({ apiKey: KEY })).toEqual({ id: 'ci', scopes: ['infer:*'] });
    expect(auth.authenticate({ authorization: `bearer ${KEY}` })).toEqual({ id: 'ci', scopes: ['infer:*'] });
  });

  it('missing, wrong, or not bearer', async () => {
    expect(await refusal({})).toBe('AUTHENTICATION_REQUIRED');
    expect(await refusal({ authorization: 'Bearer ' })).toBe('AUTHENTICATION_REQUIRED');
    expect(await refusal(bearer('sibyl_wrong-key-0000000000'))).toBe('CREDENTIALS_INVALID');
    expect(await refusal({ apiKey: 'sibyl_wrong-key-0000000000' })).toBe('CREDENTIALS_INVALID');
    expect(await refusal({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })).toBe('CREDENTIALS_INVALID');
  });
});

describe('JWTs from a JWKS over HTTP', () => {
  it('a good token is its subject, with its scopes', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: 'infer:m read', iss: ISS, aud: AUD });
    await expect(auth.authenticate(bearer(token))).resolves.toEqual({ id: 'alice', scopes: ['infer:m', 'read'] });
  });

  it.each([
    ['expired', { expiresInSec: -60 }],
    ['not valid yet', { notBeforeSec: 120 }],
    ['of another audience', { aud: 'someone-else' }],
    ['of another issuer', { iss: 'https://evil.test' }],
    ['without sub', { sub: undefined }],
  ])('a token %s is refused', async (_what, override) => {
    const token = await issuer.sign({ sub: 'alice', scope: 'read', iss: ISS, aud: AUD, ...override });
    expect(await refusal(bearer(token))).toBe('CREDENTIALS_INVALID');
  });

  it('accepts expiry and nbf within the clock tolerance', async () => {
    const token = await issuer.sign({ sub: 'alice', iss: ISS, aud: AUD, expiresInSec: -2, notBeforeSec: 2 });
    await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ id: 'alice' });
  });

  it('a token with a forged signature is refused', async () => {
    const token = await issuer.sign({ sub: 'alice', iss: ISS, aud: AUD });
    const [h, p] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'root', scope: 'admin', iss: ISS, aud: AUD, exp: 9e9 })).toString('base64url')}.${token.split('.')[2]}`;
    expect(p).toBeDefined();
    expect(await refusal(bearer(forged))).toBe('CREDENTIALS_INVALID');
  });

  it('key rotation: a token of a new key is accepted without a restart; a removed key is refused', async () => {
    const old = await issuer.sign({ sub: 'alice', iss: ISS, aud: AUD });
    await expect(auth.authenticate(bearer(old))).resolves.toMatchObject({ id: 'alice' });
    const before = issuer.fetches;
    await issuer.rotate('ES256', false);
    const fresh = await issuer.sign({ sub: 'bob', scope: 'admin', iss: ISS, aud: AUD });
    await expect(auth.authenticate(bearer(fresh))).resolves.toEqual({ id: 'bob', scopes: ['admin'] });
    expect(issuer.fetches).toBeGreaterThan(before);
    // The old key is gone from the set: its tokens, trusted from memory for at most
    // VERIFIED_TOKEN_TTL_MS since they were verified, no longer verify after that.
    expect(await auth.authenticate(bearer(old))).toMatchObject({ id: 'alice' });
    skippedMs += VERIFIED_TOKEN_TTL_MS;
    expect(await refusal(bearer(old))).toBe('CREDENTIALS_INVALID');
  });

  it('HS256 with the shared secret; with another secret refused', async () => {
    await expect(auth.authenticate(bearer(await signHs256(SECRET, { sub: 'svc', scope: 'batch:run', iss: ISS, aud: AUD })))).resolves.toEqual({ id: 'svc', scopes: ['batch:run'] });
    expect(await refusal(bearer(await signHs256('another-secret-of-at-least-32-characters', { sub: 'svc', iss: ISS, aud: AUD })))).toBe('CREDENTIALS_INVALID');
  });

  it('a token signed with alg none is refused', async () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'root', scope: 'admin', iss: ISS, aud: AUD })).toString('base64url')}.`;
    expect(await refusal(bearer(none))).toBe('CREDENTIALS_INVALID');
  });

  it('scopes from a space-separated string or an array claim', async () => {
    expect(scopesOf('a  b')).toEqual(['a', 'b']);
    expect(scopesOf(['a', 3, 'b'])).toEqual(['a', 'b']);
    expect(scopesOf(undefined)).toEqual([]);
    const scp = new JwtVerifier({ secret: SECRET, clockToleranceSec: 0, scopeClaim: 'scp' });
    await expect(scp.verify(await signHs256(SECRET, { sub: 'x', scope: ['read', 'infer:m'], scopeClaim: 'scp' }))).resolves.toEqual({ id: 'x', scopes: ['read', 'infer:m'] });
  });
});
