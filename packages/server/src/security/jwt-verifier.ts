// JWT bearer tokens, verified by jose (never by hand): HS256 with a shared secret, or the
// asymmetric algorithms with keys from a JWKS URL (jose's remote key set caches the keys and
// refetches them when a token names an unknown `kid`: key rotation needs no restart). `iss`,
// `aud`, `exp` and `nbf` are checked with the configured clock tolerance; the principal is
// `sub`, its scopes the configured claim (a space-separated string or an array of strings).
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { Principal } from '../core/request-context.ts';

export interface JwtVerifierOptions {
  /** HS256 shared secret. */
  readonly secret?: string;
  /** JWKS URL of the asymmetric keys (RS256, ES256, …). */
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockToleranceSec: number;
  readonly scopeClaim: string;
  /** Least time between two JWKS fetches, in ms (jose's cooldown). */
  readonly jwksCooldownMs?: number;
  /** Timeout of one JWKS fetch, in ms. */
  readonly jwksTimeoutMs?: number;
  /** Now, in ms since the epoch (tests). Default: the system clock. */
  readonly nowMs?: () => number;
  /** Verified tokens remembered (by the token itself), at most this many; 0: none. Default VERIFIED_TOKENS. */
  readonly cachedTokens?: number;
}

/** How many verified tokens are remembered: a client re-sends its token until it expires. */
export const VERIFIED_TOKENS = 10_000;
/**
 * How long a verified token is trusted without verifying it again, in ms (never past its `exp`):
 * a key removed from the JWKS stops the tokens it signed within this time.
 */
export const VERIFIED_TOKEN_TTL_MS = 60_000;

/** A verified token: who it stands for, and from when to when it may be trusted without verifying again (ms since the epoch). */
interface Verified {
  readonly principal: Principal;
  readonly fromMs: number;
  readonly untilMs: number;
}

/** Why a token was refused: the reason is safe to show the caller, the token itself never is. */
export class TokenRefused extends Error {}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export class JwtVerifier {
  private readonly secret: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly options: JwtVerifierOptions;
  /** Insertion-ordered: the oldest entry is dropped first once the map is full. */
  private readonly verified = new Map<string, Verified>();

  constructor(options: JwtVerifierOptions) {
    this.options = options;
    this.secret = options.secret === undefined ? undefined : new TextEncoder().encode(options.secret);
    this.jwks = options.jwksUrl === undefined ? undefined : createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 5000, cooldownDuration: options.jwksCooldownMs ?? 30_000 });
  }

  /**
   * The principal of a token verified lately and still within its validity (exp, nbf, with the
   * clock tolerance), without verifying it again; undefined otherwise. Synchronous: a client that
   * sends the same token with every request costs one map lookup, not a signature check.
   */
  cached(token: string): Principal | undefined {
    const hit = this.verified.get(token);
    if (hit === undefined) return undefined;
    const now = this.now();
    if (now >= hit.fromMs && now < hit.untilMs) return hit.principal;
    this.verified.delete(token);
    return undefined;
  }

  /** The principal a token stands for. @throws TokenRefused naming what is wrong (expired, wrong audience, bad signature, …). */
  async verify(token: string): Promise<Principal> {
    const cached = this.cached(token);
    if (cached !== undefined) return cached;
    const { principal, payload } = await this.verifyNow(token);
    this.remember(token, principal, payload);
    return principal;
  }

  private now(): number {
    return this.options.nowMs === undefined ? Date.now() : this.options.nowMs();
  }

  /** Keeps a verified token for VERIFIED_TOKEN_TTL_MS at most, never past exp (+ tolerance), never before nbf (− tolerance). */
  private remember(token: string, principal: Principal, claims: JWTPayload): void {
    const limit = this.options.cachedTokens ?? VERIFIED_TOKENS;
    if (limit <= 0) return;
    const toleranceMs = this.options.clockToleranceSec * 1000;
    const now = this.now();
    const untilMs = Math.min(now + VERIFIED_TOKEN_TTL_MS, claims.exp === undefined ? Infinity : claims.exp * 1000 + toleranceMs);
    const fromMs = claims.nbf === undefined ? -Infinity : claims.nbf * 1000 - toleranceMs;
    if (this.verified.size >= limit) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, fromMs, untilMs });
  }

  /** The principal and the claims jose verified (its `exp` and `nbf` bound how long the token is remembered). */
  private async verifyNow(token: string): Promise<{ principal: Principal; payload: JWTPayload }> {
    const checks: JWTVerifyOptions = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSec,
      currentDate: this.options.nowMs === undefined ? undefined : new Date(this.options.nowMs()),
    };
    let payload: JWTPayload;
    try {
      if (this.jwks !== undefined && (this.secret === undefined || !isHs256(token))) {
        payload = (await jwtVerify(token, this.jwks, { ...checks, algorithms: ASYMMETRIC })).payload;
      } else if (this.secret !== undefined) {
        payload = (await jwtVerify(token, this.secret, { ...checks, algorithms: ['HS256'] })).payload;
      } else {
        throw new TokenRefused('no JWT verification is configured');
      }
    } catch (err) {
      if (err instanceof TokenRefused) throw err;
      throw new TokenRefused(refusal(err));
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenRefused('the token has no `sub` claim');
    return { principal: { id: payload.sub, scopes: scopesOf(payload[this.options.scopeClaim]) }, payload };
  }
}

/** Whether a token's header names HS256 (which key to verify it with; the signature decides). */
function isHs256(token: string): boolean {
  const dot = token.indexOf('.');
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { alg?: unknown };
    return header.alg === 'HS256';
  } catch {
    return false;
  }
}

/** The scopes a claim carries: `scope` is space-separated (OAuth 2), `scp` and the like are arrays. */
export function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter((s) => s !== '');
  if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

/** jose's error, in words safe for the caller (its code names the check; nothing of the token). */
function refusal(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (err as { claim?: unknown }).claim;
      return claim === 'nbf' ? 'the token is not valid yet (nbf)' : `the token's ${String(claim)} claim is not what this server accepts`;
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the token signature does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return "no key of the issuer's key set matches the token";
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return "the token's algorithm is not accepted";
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return "the issuer's key set could not be fetched";
    default:
      return 'the token is malformed or does not verify';
  }
}
