import { describe, expect, it } from 'vitest';
import { configErrorMessage } from '../testing/config-error.ts';
import { compileServerConfig, environmentLayer, flagsLayer, serverConfigDefaults, serverEnvironmentVariables } from './server-config.ts';
import { tlsProblems } from './tls-config.ts';

const defaults = serverConfigDefaults('/repo');

describe('the tls section', () => {
  it('is off by default: no certificate, no client certificates, polling every 5 s', () => {
    expect(defaults.tls).toEqual({ clientCertificates: 'none', reloadIntervalMs: 5000, clientPrincipals: {} });
  });

  it('is read from the file, the environment and flags, flags first', () => {
    const file = { path: 'sibyl.yaml', document: { tls: { certFile: '/f/cert.pem', keyFile: '/f/key.pem', clientPrincipals: { alice: ['read'] } } } };
    const env = environmentLayer({ SIBYL_TLS_KEY_FILE: '/e/key.pem', SIBYL_TLS_CA_FILE: '/e/ca.pem', SIBYL_TLS_RELOAD_INTERVAL_MS: '1000' }).layer;
    const flags = flagsLayer({ tlsCaFile: '/c/ca.pem', tlsClientCertificates: 'require' });
    expect(compileServerConfig({ defaults, file, env, flags }).tls).toEqual({
      certFile: '/f/cert.pem',
      keyFile: '/e/key.pem',
      caFile: '/c/ca.pem',
      clientCertificates: 'require',
      reloadIntervalMs: 1000,
      clientPrincipals: { alice: ['read'] },
    });
    const names = serverEnvironmentVariables().map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['SIBYL_TLS_CERT_FILE', 'SIBYL_TLS_KEY_FILE', 'SIBYL_TLS_CA_FILE', 'SIBYL_TLS_CLIENT_CERTIFICATES', 'SIBYL_TLS_RELOAD_INTERVAL_MS']));
    expect(names).not.toContain('SIBYL_TLS_CLIENT_PRINCIPALS');
  });

  it.each([
    ['a certificate without its key', { certFile: 'c.pem' }, ['tls.keyFile: is missing; expected the private key file of tls.certFile']],
    ['a key without its certificate', { keyFile: 'k.pem' }, ['tls.certFile: is missing; expected the certificate file of tls.keyFile']],
    ['client certificates without a CA', { certFile: 'c.pem', keyFile: 'k.pem', clientCertificates: 'require' as const }, ['tls.caFile: is missing; expected the CA file client certificates are verified against (tls.clientCertificates is require)']],
    ['client certificates without TLS', { caFile: 'ca.pem', clientCertificates: 'request' as const }, ['tls.certFile: is missing; client certificates (tls.clientCertificates: request) need TLS']],
    ['a whole section', { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem', clientCertificates: 'require' as const }, []],
  ])('refuses %s (or not), naming the field', (_, tls, expected) => {
    const problems = tlsProblems({ clientCertificates: 'none', ...tls }).map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual(expected);
  });

  it('refuses at compile time, naming the file and field', () => {
    expect(configErrorMessage(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { tls: { certFile: 'c.pem' } } }, env: {}, flags: {} }))).toBe(
      's.yaml: tls.keyFile: is missing; expected the private key file of tls.certFile',
    );
    expect(configErrorMessage(() => compileServerConfig({ defaults, env: {}, flags: flagsLayer({ tlsClientCertificates: 'always' }) }))).toContain('tls.clientCertificates');
    expect(configErrorMessage(() => compileServerConfig({ defaults, file: { path: 's.yaml', document: { tls: { clientPrincipals: { alice: ['read', 'infer-*'] } } } }, env: {}, flags: {} }))).toBe(
      's.yaml: tls.clientPrincipals.alice[1]: "infer-*" is not a scope; expected one of read, admin, batch:run, features:push, infer:* or infer:<model or endpoint>',
    );
    const ok = { tls: { clientPrincipals: { alice: ['read', 'admin', 'batch:run', 'features:push', 'infer:*', 'infer:churn'] } } };
    expect(compileServerConfig({ defaults, file: { path: 's.yaml', document: ok }, env: {}, flags: {} }).tls.clientPrincipals).toEqual(ok.tls.clientPrincipals);
  });
});
