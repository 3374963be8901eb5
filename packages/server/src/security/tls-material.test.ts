import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readTlsMaterial, TlsMaterialError } from './tls-material.ts';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/tls/', import.meta.url));
const f = (name: string): string => FIXTURES + name;

async function refusal(files: Parameters<typeof readTlsMaterial>[0], read?: Parameters<typeof readTlsMaterial>[1]): Promise<TlsMaterialError> {
  try {
    await readTlsMaterial(files, read);
  } catch (err) {
    expect(err).toBeInstanceOf(TlsMaterialError);
    return err as TlsMaterialError;
  }
  throw new Error('expected a refusal');
}

describe('readTlsMaterial', () => {
  it('reads a matching certificate and key, with the CA, and describes the leaf', async () => {
    const material = await readTlsMaterial({ certFile: f('test-server.pem'), keyFile: f('test-server.key'), caFile: f('test-ca.pem') });
    expect(material.cert.equals(await readFile(f('test-server.pem')))).toBe(true);
    expect(material.ca?.equals(await readFile(f('test-ca.pem')))).toBe(true);
    expect(material.subject).toContain('CN=localhost');
    expect(material.serialNumber).toBe('03E9');
  });

  it.each([
    ['a missing certificate', { certFile: f('absent.pem'), keyFile: f('test-server.key') }, 'tls.certFile', /absent\.pem cannot be read \(ENOENT\)/],
    ['a missing key', { certFile: f('test-server.pem'), keyFile: f('absent.key') }, 'tls.keyFile', /cannot be read \(ENOENT\)/],
    ['a missing CA', { certFile: f('test-server.pem'), keyFile: f('test-server.key'), caFile: f('absent-ca.pem') }, 'tls.caFile', /cannot be read/],
    ['a key in place of the certificate', { certFile: f('test-server.key'), keyFile: f('test-server.key') }, 'tls.certFile', /holds no PEM certificate/],
    ['a certificate in place of the key', { certFile: f('test-server.pem'), keyFile: f('test-server.pem') }, 'tls.keyFile', /holds no unencrypted PEM private key/],
    ['the key of another certificate', { certFile: f('test-server.pem'), keyFile: f('test-server-renewed.key') }, 'tls.keyFile', /is not the private key of the certificate/],
    ['a key in place of the CA', { certFile: f('test-server.pem'), keyFile: f('test-server.key'), caFile: f('test-client.key') }, 'tls.caFile', /holds no PEM certificate/],
  ])('refuses %s, naming the field', async (_, files, field, message) => {
    const err = await refusal(files);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });

  it('never quotes the files it refuses', async () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nTOP-SECRET-BYTES\n-----END PRIVATE KEY-----\n';
    const err = await refusal({ certFile: 'c.pem', keyFile: 'k.pem' }, async (path) => (path === 'k.pem' ? Buffer.from(secret) : readFile(f('test-server.pem'))));
    expect(err.field).toBe('tls.keyFile');
    expect(err.message).not.toContain('TOP-SECRET');
  });
});
