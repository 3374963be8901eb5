import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { certificateIdentity, connectionPrincipal, principalFromCertificate } from './client-certificate.ts';

/** A peer certificate as Node's TLSSocket.getPeerCertificate() gives it (only the fields read here). */
const peer = (subject: Record<string, string | string[]>, subjectaltname?: string): PeerCertificate =>
  ({ subject, subjectaltname, raw: Buffer.from('der') }) as unknown as PeerCertificate;

describe('certificateIdentity', () => {
  it.each([
    ['the subject CN', peer({ O: 'x', CN: 'alice' }, 'URI:spiffe://a/b'), 'alice'],
    ['the first CN of several', peer({ CN: ['first', 'second'] }), 'first'],
    ['a URI SAN without a CN', peer({ O: 'x' }, 'DNS:svc.local, URI:spiffe://sibyl.test/batch'), 'spiffe://sibyl.test/batch'],
    ['a DNS SAN without CN or URI', peer({ O: 'x' }, 'IP Address:10.0.0.1, DNS:svc.local'), 'svc.local'],
    ['an email SAN last', peer({}, 'email:ops@example.com'), 'ops@example.com'],
    ['a JSON-quoted SAN', peer({}, 'URI:"spiffe://a/b, c"'), 'spiffe://a/b, c'],
    ['nothing when only an IP SAN', peer({ O: 'x' }, 'IP Address:10.0.0.1'), undefined],
  ])('is %s', (_, certificate, expected) => {
    expect(certificateIdentity(certificate)).toBe(expected);
  });

  it("reads the test client's certificate (CN test-client)", () => {
    const pem = readFileSync(fileURLToPath(new URL('../../test/fixtures/tls/test-client.pem', import.meta.url)));
    const x509 = new X509Certificate(pem);
    expect(certificateIdentity(peer({ CN: /CN=([^\n]+)/.exec(x509.subject)![1]! }, x509.subjectAltName))).toBe('test-client');
  });
});

describe('principalFromCertificate', () => {
  const principals = { alice: ['infer:*', 'read'], 'spiffe://sibyl.test/batch': ['batch:run'] };
  it.each([
    ['a named identity gets its scopes', peer({ CN: 'alice' }), principals, { id: 'alice', scopes: ['infer:*', 'read'] }],
    ['a SAN identity gets its scopes', peer({}, 'URI:spiffe://sibyl.test/batch'), principals, { id: 'spiffe://sibyl.test/batch', scopes: ['batch:run'] }],
    ['an identity not named gets none', peer({ CN: 'mallory' }), principals, undefined],
    ["an identity not named gets '*''s", peer({ CN: 'mallory' }), { ...principals, '*': ['read'] }, { id: 'mallory', scopes: ['read'] }],
    ["a named identity does not get '*''s", peer({ CN: 'alice' }), { alice: [], '*': ['admin'] }, { id: 'alice', scopes: [] }],
    ['an empty certificate (none sent) gives none', {} as PeerCertificate, { '*': ['admin'] }, undefined],
    ['no certificate gives none', undefined, { '*': ['admin'] }, undefined],
    ['a certificate without identity gives none', peer({ O: 'x' }), { '*': ['admin'] }, undefined],
    ['an inherited key is no identity', peer({ CN: 'constructor' }), principals, undefined],
  ])('%s', (_, certificate, mapping, expected) => {
    expect(principalFromCertificate(certificate, mapping)).toEqual(expected);
  });
});

describe('connectionPrincipal', () => {
  const principalOf = connectionPrincipal({ alice: ['read'] });
  it('takes the certificate of an authorized TLS socket only, once per socket', () => {
    let reads = 0;
    const socket = { authorized: true, getPeerCertificate: () => (reads++, peer({ CN: 'alice' })) };
    expect(principalOf(socket)).toEqual({ id: 'alice', scopes: ['read'] });
    expect(principalOf(socket)).toEqual({ id: 'alice', scopes: ['read'] });
    expect(reads).toBe(1);
    expect(principalOf({ authorized: false, getPeerCertificate: () => peer({ CN: 'alice' }) })).toBeUndefined();
    expect(principalOf({ remoteAddress: '127.0.0.1' })).toBeUndefined();
    expect(principalOf(undefined)).toBeUndefined();
  });
});
