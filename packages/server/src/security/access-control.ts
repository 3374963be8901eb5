// Access control as the composition root builds it from the configuration: the authenticator
// (API keys from sibyl.yaml and the keys file, JWT verification), the audit log, and the one
// check the entries make: authenticate, then `allows` (core/scopes.ts), or a SibylError
// (401 AUTHENTICATION_REQUIRED / CREDENTIALS_INVALID, 403 SCOPE_MISSING).
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import Type from 'typebox';
import type { Logger } from 'pino';
import { SibylError } from '@sibyl/protocol';
import { ApiKeySchema, JwtConfigSchema, type AuthConfig } from '../config/auth-config.ts';
import { fieldDefault } from '../config/schema-defaults.ts';
import { ConfigError, validateConfig } from '../config/validate.ts';
import { readYamlFile } from '../config/yaml-file.ts';
import type { Principal } from '../core/request-context.ts';
import { allows, type Scope } from '../core/scopes.ts';
import { ApiKeys, type ApiKeyEntry } from './api-keys.ts';
import { createAuditLog, type AuditLog } from './audit-log.ts';
import { AUTHENTICATION_OFF, createAuthenticator, type Authenticator } from './authenticator.ts';
import { JwtVerifier } from './jwt-verifier.ts';

export interface AccessControl {
  readonly authenticator: Authenticator;
  readonly audit: AuditLog;
}

const ApiKeysFileSchema = Type.Record(Type.String({ minLength: 1 }), ApiKeySchema);

/** Whether the configuration turns authentication on. */
export function authenticationConfigured(auth: AuthConfig): boolean {
  return Object.keys(auth.apiKeys).length > 0 || auth.apiKeysFile !== undefined || auth.jwt !== undefined;
}

export interface AccessControlOptions {
  readonly auth: AuthConfig;
  readonly auditFile?: string;
  readonly log: Logger;
  /** Relative files (keys file, secret file) resolve against it. Default: the working directory. */
  readonly configDir?: string;
  /** Now in ms since the epoch, for JWT validity times (tests). */
  readonly nowMs?: () => number;
}

/** Reads the keys file and the secret file, and builds the authenticator and the audit log. @throws ConfigError. */
export async function createAccessControl(options: AccessControlOptions): Promise<AccessControl> {
  const { auth } = options;
  const at = (file: string): string => (isAbsolute(file) ? file : resolve(options.configDir ?? process.cwd(), file));
  const audit = createAuditLog({ log: options.log, file: options.auditFile === undefined ? undefined : at(options.auditFile) });
  if (!authenticationConfigured(auth)) return { authenticator: AUTHENTICATION_OFF, audit };
  const keys: ApiKeyEntry[] = Object.entries(auth.apiKeys).map(([name, k]) => ({ name, sha256: k.sha256.toLowerCase(), scopes: k.scopes }));
  if (auth.apiKeysFile !== undefined) {
    const file = at(auth.apiKeysFile);
    const document = validateConfig<Record<string, { sha256: string; scopes: string[] }>>(ApiKeysFileSchema, (await readYamlFile(file)) ?? {}, file);
    for (const [name, k] of Object.entries(document)) {
      if (keys.some((e) => e.name === name)) throw new ConfigError(file, [{ path: name, message: 'an API key of this name is also in auth.apiKeys; names must be unique (they are the principal ids)' }]);
      keys.push({ name, sha256: k.sha256.toLowerCase(), scopes: k.scopes });
    }
  }
  const jwt = auth.jwt;
  let verifier: JwtVerifier | undefined;
  if (jwt !== undefined) {
    let secret = jwt.secret;
    if (secret === undefined && jwt.secretFile !== undefined) {
      const file = at(jwt.secretFile);
      secret = (await readFile(file, 'utf8').catch(() => {
        throw new ConfigError(file, [{ path: 'auth.jwt.secretFile', message: 'cannot read the file' }]);
      })).trimEnd();
      if (secret.length < 32) throw new ConfigError(file, [{ path: 'auth.jwt.secretFile', message: 'the secret is shorter than 32 characters' }]);
    }
    if (secret === undefined && jwt.jwksUrl === undefined) {
      throw new ConfigError('configuration', [{ path: 'auth.jwt', message: 'names neither secret, secretFile nor jwksUrl; expected an HS256 secret or the JWKS URL of the issuer' }]);
    }
    verifier = new JwtVerifier({
      secret,
      jwksUrl: jwt.jwksUrl,
      jwksCooldownMs: jwt.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
      issuer: jwt.issuer,
      audience: jwt.audience,
      clockToleranceSec: jwt.clockToleranceSec ?? CLOCK_TOLERANCE_SEC,
      scopeClaim: jwt.scopeClaim ?? SCOPE_CLAIM,
      nowMs: options.nowMs,
    });
  }
  return { authenticator: createAuthenticator(new ApiKeys(keys), verifier), audit };
}

const CLOCK_TOLERANCE_SEC = fieldDefault<number>(JwtConfigSchema, 'clockToleranceSec');
const JWKS_COOLDOWN_MS = fieldDefault<number>(JwtConfigSchema, 'jwksCooldownMs');
const SCOPE_CLAIM = fieldDefault<string>(JwtConfigSchema, 'scopeClaim');

/** @throws SibylError SCOPE_MISSING when `principal` may not do what `needed` names. */
export function requireScope(principal: Principal | undefined, needed: Scope): void {
  if (!allows(principal, needed)) {
    throw new SibylError('SCOPE_MISSING', `'${principal!.id}' lacks the scope ${needed} this request needs`);
  }
}
