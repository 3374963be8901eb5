// A token issuer for tests: key pairs made with jose, their public keys served as a JWKS over
// HTTP on 127.0.0.1 (a real fetch, as from an identity provider), and tokens signed with them.
// rotate() adds a new key (a new `kid`) and may drop the old one, as a provider rotating keys does.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

interface Key {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

export interface TokenOptions {
  readonly sub?: string;
  readonly scope?: string | string[];
  /** Claim that carries `scope` (default `scope`). */
  readonly scopeClaim?: string;
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds from now (negative: already expired). Default 300. */
  readonly expiresInSec?: number;
  /** Seconds from now the token becomes valid (nbf). */
  readonly notBeforeSec?: number;
  /** Sign with this key id (default: the newest key). */
  readonly kid?: string;
  readonly claims?: JWTPayload;
}

export class JwksServer {
  private keys: Key[] = [];
  private server: Server | undefined;
  /** JWKS fetches served so far. */
  fetches = 0;
  url = '';

  /** Starts serving on a free port of 127.0.0.1, with one key of `alg`. */
  static async start(alg: 'RS256' | 'ES256' = 'RS256'): Promise<JwksServer> {
    const issuer = new JwksServer();
    await issuer.rotate(alg, false);
    issuer.server = createServer((_request, response) => {
      issuer.fetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: issuer.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => issuer.server!.listen(0, '127.0.0.1', resolve));
    const address = issuer.server.address() as { port: number };
    issuer.url = `http://127.0.0.1:${address.port}/.well-known/jwks.json`;
    return issuer;
  }

  /** The newest key's id. */
  get kid(): string {
    return this.keys.at(-1)!.kid;
  }

  /** Adds a new key (the one tokens are signed with from now on); drops the others unless `keepOld`. */
  async rotate(alg: 'RS256' | 'ES256' = 'RS256', keepOld = true): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${this.keys.length + 1}-${Math.random().toString(36).slice(2, 8)}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys = [...(keepOld ? this.keys : []), { kid, alg, privateKey, jwk }];
    return kid;
  }

  /** A signed token. */
  async sign(options: TokenOptions = {}): Promise<string> {
    const key = options.kid === undefined ? this.keys.at(-1)! : this.keys.find((k) => k.kid === options.kid)!;
    return signToken(new SignJWT({ ...options.claims, ...scopeClaim(options) }).setProtectedHeader({ alg: key.alg, kid: key.kid }), options).sign(key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}

/** An HS256 token signed with `secret`. */
export function signHs256(secret: string, options: TokenOptions = {}): Promise<string> {
  return signToken(new SignJWT({ ...options.claims, ...scopeClaim(options) }).setProtectedHeader({ alg: 'HS256' }), options).sign(new TextEncoder().encode(secret));
}

function scopeClaim(options: TokenOptions): JWTPayload {
  return options.scope === undefined ? {} : { [options.scopeClaim ?? 'scope']: options.scope };
}

function signToken(jwt: SignJWT, options: TokenOptions): SignJWT {
  const now = Math.floor(Date.now() / 1000);
  jwt.setIssuedAt(now).setExpirationTime(now + (options.expiresInSec ?? 300));
  if (options.sub !== undefined) jwt.setSubject(options.sub);
  if (options.iss !== undefined) jwt.setIssuer(options.iss);
  if (options.aud !== undefined) jwt.setAudience(options.aud);
  if (options.notBeforeSec !== undefined) jwt.setNotBefore(now + options.notBeforeSec);
  return jwt;
}
