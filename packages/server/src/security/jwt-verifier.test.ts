// The verified-token cache: a token is verified once, then trusted by a map lookup until its
// exp (with the tolerance), at most VERIFIED_TOKEN_TTL_MS, within a bounded number of tokens.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, TokenRefused, VERIFIED_TOKEN_TTL_MS } from './jwt-verifier.ts';

const SECRET = 'jwt-verifier-test-secret-0123456789abcdef';
const T0 = Date.UTC(2026, 11, 8, 0, 0, 0);

async function token(claims: { sub: string; expSec?: number; nbfSec?: number }, secret = SECRET): Promise<string> {
  let jwt = new SignJWT({ scope: 'infer:*' }).setProtectedHeader({ alg: 'HS256' }).setSubject(claims.sub).setIssuedAt(T0 / 1000);
  if (claims.expSec !== undefined) jwt = jwt.setExpirationTime(claims.expSec);
  if (claims.nbfSec !== undefined) jwt = jwt.setNotBefore(claims.nbfSec);
  return jwt.sign(new TextEncoder().encode(secret));
}

function verifier(clock: { now: number }, cachedTokens?: number): JwtVerifier {
  return new JwtVerifier({ secret: SECRET, clockToleranceSec: 5, scopeClaim: 'scope', nowMs: () => clock.now, cachedTokens });
}

describe('JwtVerifier: verified tokens', () => {
  it('answers a token verified once from memory, synchronously', async () => {
    const clock = { now: T0 };
    const v = verifier(clock);
    const t = await token({ sub: 'ada', expSec: T0 / 1000 + 3600 });
    expect(v.cached(t)).toBeUndefined();
    expect(await v.verify(t)).toEqual({ id: 'ada', scopes: ['infer:*'] });
    expect(v.cached(t)).toEqual({ id: 'ada', scopes: ['infer:*'] });
  });

  it('never trusts a remembered token past its exp (plus the tolerance)', async () => {
    const clock = { now: T0 };
    const v = verifier(clock);
    const t = await token({ sub: 'ada', expSec: T0 / 1000 + 30 });
    await v.verify(t);
    clock.now = T0 + 34_000;
    expect(v.cached(t)).toEqual({ id: 'ada', scopes: ['infer:*'] });
    clock.now = T0 + 35_000;
    expect(v.cached(t)).toBeUndefined();
    await expect(v.verify(t)).rejects.toThrow(TokenRefused);
  });

  it('verifies again after VERIFIED_TOKEN_TTL_MS, even when exp is later', async () => {
    const clock = { now: T0 };
    const v = verifier(clock);
    const t = await token({ sub: 'ada', expSec: T0 / 1000 + 86_400 });
    await v.verify(t);
    clock.now = T0 + VERIFIED_TOKEN_TTL_MS - 1;
    expect(v.cached(t)).toBeDefined();
    clock.now = T0 + VERIFIED_TOKEN_TTL_MS;
    expect(v.cached(t)).toBeUndefined();
  });

  it('never remembers a refused token', async () => {
    const clock = { now: T0 };
    const v = verifier(clock);
    const forged = await token({ sub: 'mallory', expSec: T0 / 1000 + 3600 }, 'another-secret-0123456789abcdef0123456789');
    await expect(v.verify(forged)).rejects.toThrow(TokenRefused);
    expect(v.cached(forged)).toBeUndefined();
    await expect(v.verify(forged)).rejects.toThrow(TokenRefused);
  });

  it('keeps at most cachedTokens tokens, dropping the oldest', async () => {
    const clock = { now: T0 };
    const v = verifier(clock, 2);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => token({ sub, expSec: T0 / 1000 + 3600 })));
    for (const t of [a!, b!, c!]) await v.verify(t);
    expect(v.cached(a!)).toBeUndefined();
    expect(v.cached(b!)?.id).toBe('b');
    expect(v.cached(c!)?.id).toBe('c');
  });

  it('remembers nothing with cachedTokens 0', async () => {
    const clock = { now: T0 };
    const v = verifier(clock, 0);
    const t = await token({ sub: 'ada', expSec: T0 / 1000 + 3600 });
    await v.verify(t);
    expect(v.cached(t)).toBeUndefined();
  });
});
