// The one authentication behind every entry (HTTP hook, gRPC calls, streams): credentials in,
// a Principal out, or a SibylError (401 / UNAUTHENTICATED). Credentials come as
// `Authorization: Bearer <API key or JWT>` or `x-api-key: <API key>` (HTTP headers and gRPC
// metadata alike). A bearer value with three dot-separated parts is a JWT when JWTs are
// configured; anything else is an API key. API keys answer synchronously (no promise on the hot
// path); JWTs asynchronously (jose). Error messages never quote the credentials.
import { SibylError } from '@sibyl/protocol';
import type { Principal } from '../core/request-context.ts';
import type { ApiKeys } from './api-keys.ts';
import { TokenRefused, type JwtVerifier } from './jwt-verifier.ts';

/** The request's credential headers (lower-case names), from HTTP headers or gRPC metadata. */
export interface Credentials {
  readonly authorization?: string;
  readonly apiKey?: string;
}

export interface Authenticator {
  /** False: authentication is off; authenticate() then answers undefined (every caller may do everything). */
  readonly enabled: boolean;
  /**
   * The caller. Synchronous for API keys (and when off), a promise for JWTs.
   * @throws SibylError AUTHENTICATION_REQUIRED (no credentials) or CREDENTIALS_INVALID.
   */
  authenticate(credentials: Credentials): Principal | undefined | Promise<Principal>;
}

export const AUTHENTICATION_OFF: Authenticator = { enabled: false, authenticate: () => undefined };

const HOW = 'send Authorization: Bearer <API key or token>, or x-api-key: <API key>';

export function authenticationRequired(): SibylError {
  return new SibylError('AUTHENTICATION_REQUIRED', `this server requires authentication; ${HOW}`);
}

export function createAuthenticator(apiKeys: ApiKeys, jwt: JwtVerifier | undefined): Authenticator {
  const badKey = (): SibylError => new SibylError('CREDENTIALS_INVALID', 'the API key is not valid');
  const bearerKey = (key: string): Principal => {
    const principal = apiKeys.verify(key);
    if (principal === undefined) throw badKey();
    return principal;
  };
  return {
    enabled: true,
    authenticate(credentials: Credentials): Principal | Promise<Principal> {
      if (credentials.apiKey !== undefined && credentials.apiKey !== '') return bearerKey(credentials.apiKey);
      const authorization = credentials.authorization;
      if (authorization === undefined || authorization === '') throw authenticationRequired();
      // RFC 7235: the scheme is case-insensitive.
      const scheme = authorization.slice(0, 7).toLowerCase();
      if (scheme !== 'bearer ' && scheme !== 'bearer') {
        throw new SibylError('CREDENTIALS_INVALID', `the Authorization header is not a bearer credential; ${HOW}`);
      }
      const value = authorization.slice(7).trim();
      if (value === '') throw authenticationRequired();
      if (jwt !== undefined && isJwtShaped(value)) {
        // A token verified lately answers synchronously: no promise on the hot path.
        const cached = jwt.cached(value);
        if (cached !== undefined) return cached;
        return jwt.verify(value).catch((err: unknown) => {
          if (err instanceof TokenRefused) throw new SibylError('CREDENTIALS_INVALID', `the bearer token is refused: ${err.message}`);
          throw err;
        });
      }
      return bearerKey(value);
    },
  };
}

/** Three base64url parts separated by dots (a JWS in compact form). */
function isJwtShaped(value: string): boolean {
  const first = value.indexOf('.');
  if (first <= 0) return false;
  const second = value.indexOf('.', first + 1);
  return second > first + 1 && value.indexOf('.', second + 1) === -1;
}
