import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SibylError } from '@sibyl/protocol';
import { ConfigError } from '../config/validate.ts';
import { makeTempDir, removeDir } from '../testing/index.ts';
import { signHs256 } from '../testing/jwks-server.ts';
import { authenticationConfigured, createAccessControl, requireScope } from './access-control.ts';
import { hashApiKey } from './api-keys.ts';

const log = pino({ level: 'silent' });
const SECRET = 'a-secret-read-from-a-file-0123456789abcdef';
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('sibyl-access-');
  await writeFile(path.join(dir, 'keys.yaml'), `file-key:\n  sha256: ${hashApiKey('sibyl_from-the-file')}\n  scopes: [read]\n`);
  await writeFile(path.join(dir, 'dup.yaml'), `ops:\n  sha256: ${hashApiKey('x')}\n  scopes: [read]\n`);
  await writeFile(path.join(dir, 'bad.yaml'), `broken:\n  sha256: not-hex\n  scopes: [read]\n`);
  await writeFile(path.join(dir, 'secret'), `${SECRET}\n`);
  await writeFile(path.join(dir, 'short'), 'too short\n');
});
afterAll(() => removeDir(dir));

describe('access control from the configuration', () => {
  it('is off without keys or JWT settings', async () => {
    expect(authenticationConfigured({ apiKeys: {} })).toBe(false);
    const access = await createAccessControl({ auth: { apiKeys: {} }, log });
    expect(access.authenticator.enabled).toBe(false);
    expect(access.authenticator.authenticate({})).toBeUndefined();
  });

  it('reads more keys from the keys file, relative to the config folder', async () => {
    const access = await createAccessControl({ auth: { apiKeys: { ops: { sha256: hashApiKey('sibyl_ops'), scopes: ['admin'] } }, apiKeysFile: 'keys.yaml' }, log, configDir: dir });
    expect(access.authenticator.authenticate({ apiKey: 'sibyl_from-the-file' })).toEqual({ id: 'file-key', scopes: ['read'] });
    expect(access.authenticator.authenticate({ apiKey: 'sibyl_ops' })).toEqual({ id: 'ops', scopes: ['admin'] });
  });

  it('refuses a keys file that repeats a name or is invalid, naming the file', async () => {
    await expect(createAccessControl({ auth: { apiKeys: { ops: { sha256: hashApiKey('y'), scopes: ['admin'] } }, apiKeysFile: path.join(dir, 'dup.yaml') }, log })).rejects.toThrow(/dup\.yaml[\s\S]*ops[\s\S]*unique/);
    await expect(createAccessControl({ auth: { apiKeys: {}, apiKeysFile: path.join(dir, 'bad.yaml') }, log })).rejects.toBeInstanceOf(ConfigError);
    await expect(createAccessControl({ auth: { apiKeys: {}, apiKeysFile: path.join(dir, 'missing.yaml') }, log })).rejects.toThrow(/file not found/);
  });

  it('reads the HS256 secret from its file; refuses a short one, and JWT settings without a key', async () => {
    const access = await createAccessControl({ auth: { apiKeys: {}, jwt: { secretFile: path.join(dir, 'secret') } }, log });
    await expect(access.authenticator.authenticate({ authorization: `Bearer ${await signHs256(SECRET, { sub: 'svc', scope: 'read' })}` })).resolves.toEqual({ id: 'svc', scopes: ['read'] });
    await expect(createAccessControl({ auth: { apiKeys: {}, jwt: { secretFile: path.join(dir, 'short') } }, log })).rejects.toThrow(/shorter than 32/);
    await expect(createAccessControl({ auth: { apiKeys: {}, jwt: { issuer: 'x' } }, log })).rejects.toThrow(/neither secret, secretFile nor jwksUrl/);
  });

  it('requireScope: SCOPE_MISSING names the caller and the scope; no principal (auth off) passes', () => {
    expect(() => requireScope(undefined, 'admin')).not.toThrow();
    expect(() => requireScope({ id: 'p', scopes: ['infer:*'] }, 'infer:m')).not.toThrow();
    try {
      requireScope({ id: 'p', scopes: ['read'] }, 'admin');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SibylError);
      expect((err as SibylError).reason).toBe('SCOPE_MISSING');
      expect((err as Error).message).toContain("'p' lacks the scope admin");
    }
  });
});
